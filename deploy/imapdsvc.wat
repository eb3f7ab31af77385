exec C:\dmail\imapdsvc.exe
time 20
rest 5
logfile C:\dmail\log\imapdsvc.log
pidf C:\dmail\dwatch\imapdsvc.pid
