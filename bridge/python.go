//go:build !nopython

package bridge

// #cgo pkg-config: python3-embed
// #include <stdlib.h>
// #include "python.h"
import "C"

import (
	"unsafe"
)

// takeError converts a filled wmss_pyerr into a *PyError and frees it.
func takeError(e *C.wmss_pyerr) *PyError {
	pe := &PyError{
		Type:      goStringFree(e._type),
		Message:   goStringFree(e.message),
		Traceback: goStringFree(e.traceback),
	}
	if pe.Type == "" {
		pe.Type = "BridgeError"
	}
	return pe
}

func goStringFree(s *C.char) string {
	if s == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(s))
	return C.GoString(s)
}

func pyInit(executable, engineDir string) error {
	cexe := C.CString(executable)
	defer C.free(unsafe.Pointer(cexe))
	cdir := C.CString(engineDir)
	defer C.free(unsafe.Pointer(cdir))
	var e C.wmss_pyerr
	if C.wmss_py_init(cexe, cdir, &e) != 0 {
		return takeError(&e)
	}
	return nil
}

func pyImport(module string) error {
	cmod := C.CString(module)
	defer C.free(unsafe.Pointer(cmod))
	var e C.wmss_pyerr
	if C.wmss_py_import(cmod, &e) != 0 {
		return takeError(&e)
	}
	return nil
}

func pyCall(module, function string, args []byte) ([]byte, error) {
	cmod := C.CString(module)
	defer C.free(unsafe.Pointer(cmod))
	cfn := C.CString(function)
	defer C.free(unsafe.Pointer(cfn))
	var cargs *C.char
	if len(args) > 0 {
		cargs = (*C.char)(C.CBytes(args))
		defer C.free(unsafe.Pointer(cargs))
	}
	var n C.size_t
	var e C.wmss_pyerr
	out := C.wmss_py_call(cmod, cfn, cargs, C.size_t(len(args)), &n, &e)
	if out == nil {
		return nil, takeError(&e)
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), nil
}

func pySetCancel(v bool) {
	if v {
		C.wmss_py_set_cancel(1)
	} else {
		C.wmss_py_set_cancel(0)
	}
}
