//go:build !linux

package main

import "os"

// noEcho cannot turn off the echo here: the password shows as it is typed.
func noEcho(f *os.File) func() { return func() {} }
