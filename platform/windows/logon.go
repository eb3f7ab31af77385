//go:build windows

package windows

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

// ErrLogonRejected is wrapped by LogonUser's error when Windows refused the
// name and password (wrong password, unknown user, disabled or locked out
// account, expired password, logon not allowed now or here). Any other
// error means the check itself failed.
var ErrLogonRejected = errors.New("windows logon rejected")

const (
	logon32LogonNetwork    = 3 // LOGON32_LOGON_NETWORK
	logon32ProviderDefault = 0 // LOGON32_PROVIDER_DEFAULT
)

var procLogonUserW = windows.NewLazySystemDLL("advapi32.dll").NewProc("LogonUserW")

// rejections are the LogonUserW errors that mean "these credentials may not
// log on", as opposed to a failure of the check.
var rejections = []windows.Errno{
	windows.ERROR_LOGON_FAILURE,
	windows.ERROR_ACCOUNT_RESTRICTION,
	windows.ERROR_INVALID_LOGON_HOURS,
	windows.ERROR_INVALID_WORKSTATION,
	windows.ERROR_PASSWORD_EXPIRED,
	windows.ERROR_ACCOUNT_DISABLED,
	windows.ERROR_NO_SUCH_USER,
	windows.ERROR_NO_SUCH_DOMAIN,
	windows.ERROR_LOGON_TYPE_NOT_GRANTED,
	windows.ERROR_ACCOUNT_EXPIRED,
	windows.ERROR_PASSWORD_MUST_CHANGE,
	windows.ERROR_ACCOUNT_LOCKED_OUT,
}

// LogonUser checks a Windows account's password (authent_method nt_user)
// with LogonUserW, network logon. user may be "DOMAIN\user" (when domain is
// empty) or "user@domain"; an empty domain searches the local accounts and
// then trusted domains. It returns nil when Windows accepts the password, an
// error wrapping ErrLogonRejected when it does not, another error when the
// check could not be made.
func LogonUser(user, domain, password string) error {
	if domain == "" {
		if i := strings.IndexByte(user, '\\'); i >= 0 {
			domain, user = user[:i], user[i+1:]
		}
	}
	if user == "" {
		return fmt.Errorf("logon: empty user name: %w", ErrLogonRejected)
	}
	u, err := windows.UTF16PtrFromString(user)
	if err != nil {
		return fmt.Errorf("logon %q: %w", user, ErrLogonRejected)
	}
	p, err := windows.UTF16PtrFromString(password)
	if err != nil {
		return fmt.Errorf("logon %q: password: %w", user, ErrLogonRejected)
	}
	var d *uint16
	if domain != "" {
		if d, err = windows.UTF16PtrFromString(domain); err != nil {
			return fmt.Errorf("logon %q: domain %q: %w", user, domain, ErrLogonRejected)
		}
	}
	if err := procLogonUserW.Find(); err != nil {
		return fmt.Errorf("logon %q: %w", user, err)
	}
	var token windows.Handle
	r, _, callErr := procLogonUserW.Call(
		uintptr(unsafe.Pointer(u)), uintptr(unsafe.Pointer(d)), uintptr(unsafe.Pointer(p)),
		logon32LogonNetwork, logon32ProviderDefault, uintptr(unsafe.Pointer(&token)))
	if r == 0 {
		var errno windows.Errno
		if errors.As(callErr, &errno) {
			for _, e := range rejections {
				if errno == e {
					return fmt.Errorf("logon %q: %w: %w", user, ErrLogonRejected, errno)
				}
			}
		}
		return fmt.Errorf("logon %q: LogonUserW: %w", user, callErr)
	}
	windows.CloseHandle(token)
	return nil
}
