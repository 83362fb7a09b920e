package promtest

import "syscall"

// procAttr makes the server die with the process that started it: a test binary killed by its
// timeout runs no cleanup, and would leave Prometheus running.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
