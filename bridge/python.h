/*
 * python.h: the whole C surface of the wmss bridge to an embedded CPython.
 *
 * Go never touches a PyObject. It initialises the interpreter once, calls
 * wmss_engine._bridge.dispatch(module, function, args_json) by name with
 * JSON text in and out, and reads failures back as three strings. Every
 * function below must be called from the one OS thread that called
 * wmss_py_init (see owner.go), except wmss_py_set_cancel, which any thread
 * may call at any time.
 *
 * Memory: every char* handed back to Go (results and error strings) is
 * allocated with malloc and owned by the caller, which frees it with free().
 */
#ifndef WMSS_PYTHON_H
#define WMSS_PYTHON_H

#include <stddef.h>

/* wmss_pyerr carries a Python exception (or a bridge failure) back to Go.
 * Any field may be NULL. The caller frees each non-NULL field. */
typedef struct {
	char *type;      /* exception class name, e.g. "ValueError" */
	char *message;   /* str(exception) */
	char *traceback; /* "".join(traceback.format_exception(...)) */
} wmss_pyerr;

/* wmss_py_init initialises CPython once from a PyConfig: no Python signal
 * handlers, sys.executable and program_name set to executable, and
 * engine_dir inserted at the front of sys.path. It then imports
 * wmss_engine._bridge and releases the GIL (the thread state is kept for
 * the life of the process and restored by each call). Returns 0 on
 * success, -1 with *err filled on failure. */
int wmss_py_init(const char *executable, const char *engine_dir, wmss_pyerr *err);

/* wmss_py_import imports module (for example "torch") so that it is loaded
 * on the owner thread. Returns 0, or -1 with *err filled. */
int wmss_py_import(const char *module, wmss_pyerr *err);

/* wmss_py_call calls dispatch(module, function, args) where args is
 * args_len bytes of UTF-8 JSON. On success returns the malloc'd UTF-8 JSON
 * result and stores its length in *out_len; on failure returns NULL with
 * *err filled. */
char *wmss_py_call(const char *module, const char *function, const char *args,
                   size_t args_len, size_t *out_len, wmss_pyerr *err);

/* wmss_py_set_cancel sets (1) or clears (0) the cancel flag that Python
 * reads through _wmss_bridge.cancel_requested(). Safe from any thread. */
void wmss_py_set_cancel(int value);

#endif
