/*
 * processprng.c: a one-function stand-in for Windows' bcryptprimitives.dll,
 * for running Go test binaries under Wine (scripts/wine-exec.sh builds it).
 *
 * Go 1.22 and later draw their random bytes on Windows from ProcessPrng in
 * bcryptprimitives.dll. Wine 8 (Debian 12) has no such DLL, so every Go
 * program dies at start-up. This DLL exports ProcessPrng and fills the
 * buffer from BCryptGenRandom (bcrypt.dll, which Wine does have), using the
 * system-preferred generator, in pieces of at most ULONG_MAX bytes.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll processprng.c -lbcrypt
 */
#include <windows.h>
#include <bcrypt.h>

#ifndef BCRYPT_USE_SYSTEM_PREFERRED_RNG
#define BCRYPT_USE_SYSTEM_PREFERRED_RNG 0x00000002
#endif

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE buf, SIZE_T len)
{
	while (len > 0) {
		ULONG part = len > (SIZE_T)0xFFFFFFFFu ? 0xFFFFFFFFu : (ULONG)len;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, buf, part, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return FALSE;
		buf += part;
		len -= part;
	}
	return TRUE;
}
