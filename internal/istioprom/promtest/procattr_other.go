//go:build !linux

package promtest

import "syscall"

// procAttr is the default elsewhere (Pdeathsig is Linux's).
func procAttr() *syscall.SysProcAttr { return nil }
