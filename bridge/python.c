// python.c: the C half of the bridge; see python.h for the contract.
//
// Style: every function that touches Python has one exit. All PyObject*
// start as NULL, failures jump to `done`, and `done` drops every reference
// the function owns. Comments say where a reference is borrowed or stolen.
//go:build !nopython

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include "python.h"

static PyThreadState *owner_state = NULL; // the owner thread's state, never destroyed
static PyObject *dispatch_fn = NULL;      // wmss_engine._bridge.dispatch, owned for ever
static int cancel_flag = 0;               // read and written with __atomic builtins

// ---- the _wmss_bridge builtin module -------------------------------------

static PyObject *bridge_cancel_requested(PyObject *self, PyObject *unused) {
	(void)self;
	(void)unused;
	return PyBool_FromLong(__atomic_load_n(&cancel_flag, __ATOMIC_ACQUIRE));
}

static PyMethodDef bridge_methods[] = {
	{"cancel_requested", bridge_cancel_requested, METH_NOARGS,
	 "cancel_requested() -> bool: True when Go asked the running call to stop."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef bridge_module = {
	PyModuleDef_HEAD_INIT, "_wmss_bridge",
	"Flags shared between the wmss Go process and its embedded engine.", -1, bridge_methods,
};

static PyObject *init_bridge_module(void) { return PyModule_Create(&bridge_module); }

void wmss_py_set_cancel(int value) { __atomic_store_n(&cancel_flag, value, __ATOMIC_RELEASE); }

// ---- errors ---------------------------------------------------------------

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

// utf8_of returns a malloc'd copy of str(obj), or NULL. Clears any error it raises.
static char *utf8_of(PyObject *obj) {
	PyObject *s = NULL;
	char *out = NULL;
	const char *c;
	if (obj == NULL) goto done;
	s = PyObject_Str(obj); // new reference
	if (s == NULL) goto done;
	c = PyUnicode_AsUTF8(s); // borrowed buffer, lives as long as s
	if (c != NULL) out = strdup(c);
done:
	Py_XDECREF(s);
	PyErr_Clear();
	return out;
}

// fetch_error moves the pending Python exception into err (and clears it).
static void fetch_error(wmss_pyerr *err, const char *fallback) {
	PyObject *type = NULL, *value = NULL, *tb = NULL;
	PyObject *tbmod = NULL, *lines = NULL, *empty = NULL, *joined = NULL;

	PyErr_Fetch(&type, &value, &tb); // we own all three (any may be NULL)
	if (type == NULL) {
		err->type = strdup("BridgeError");
		err->message = dup_or_null(fallback);
		goto done;
	}
	PyErr_NormalizeException(&type, &value, &tb);
	if (tb != NULL && value != NULL) PyException_SetTraceback(value, tb);

	err->type = dup_or_null(((PyTypeObject *)type)->tp_name);
	err->message = utf8_of(value);

	tbmod = PyImport_ImportModule("traceback"); // new reference
	if (tbmod != NULL) {
		lines = PyObject_CallMethod(tbmod, "format_exception", "OOO", type,
		                            value ? value : Py_None, tb ? tb : Py_None); // new
	}
	if (lines != NULL) {
		empty = PyUnicode_FromString(""); // new
		if (empty != NULL) joined = PyUnicode_Join(empty, lines); // new
	}
	if (joined != NULL) err->traceback = dup_or_null(PyUnicode_AsUTF8(joined));
	PyErr_Clear();
done:
	Py_XDECREF(joined);
	Py_XDECREF(empty);
	Py_XDECREF(lines);
	Py_XDECREF(tbmod);
	Py_XDECREF(tb);
	Py_XDECREF(value);
	Py_XDECREF(type);
}

static void status_error(wmss_pyerr *err, PyStatus st, const char *what) {
	char buf[512];
	snprintf(buf, sizeof buf, "%s: %s%s%s", what, st.func ? st.func : "",
	         st.func ? ": " : "", st.err_msg ? st.err_msg : "unknown error");
	err->type = strdup("PyStatus");
	err->message = strdup(buf);
}

// ---- lifecycle ------------------------------------------------------------

int wmss_py_init(const char *executable, const char *engine_dir, wmss_pyerr *err) {
	PyStatus st;
	PyConfig config;
	PyObject *path = NULL, *dir = NULL, *mod = NULL;
	int rc = -1;

	if (Py_IsInitialized()) {
		err->type = strdup("BridgeError");
		err->message = strdup("the interpreter is already initialised (it is never re-initialised)");
		return -1;
	}
	if (PyImport_AppendInittab("_wmss_bridge", init_bridge_module) == -1) {
		err->type = strdup("BridgeError");
		err->message = strdup("could not register the _wmss_bridge module");
		return -1;
	}

	PyConfig_InitPythonConfig(&config);
	// Go owns SIGINT and SIGTERM; Python must not install handlers.
	config.install_signal_handlers = 0;
	// Keep the environment's PYTHON* variables from redirecting the embedded
	// interpreter to another installation (the pyenv on PATH, for example).
	config.use_environment = 0;
	config.user_site_directory = 0;
	config.parse_argv = 0;
	st = PyConfig_SetBytesString(&config, &config.program_name, executable);
	if (PyStatus_Exception(st)) { status_error(err, st, "set program_name"); goto fail_config; }
	st = PyConfig_SetBytesString(&config, &config.executable, executable);
	if (PyStatus_Exception(st)) { status_error(err, st, "set executable"); goto fail_config; }
	st = Py_InitializeFromConfig(&config);
	if (PyStatus_Exception(st)) { status_error(err, st, "initialise Python"); goto fail_config; }
	PyConfig_Clear(&config);

	path = PySys_GetObject("path"); // borrowed
	dir = PyUnicode_DecodeFSDefault(engine_dir); // new
	if (path == NULL || dir == NULL || PyList_Insert(path, 0, dir) != 0) {
		fetch_error(err, "could not put the engine directory on sys.path");
		goto done;
	}
	mod = PyImport_ImportModule("wmss_engine._bridge"); // new
	if (mod == NULL) { fetch_error(err, "import wmss_engine._bridge"); goto done; }
	dispatch_fn = PyObject_GetAttrString(mod, "dispatch"); // new; kept for ever
	if (dispatch_fn == NULL) { fetch_error(err, "wmss_engine._bridge.dispatch"); goto done; }
	rc = 0;
done:
	Py_XDECREF(mod);
	Py_XDECREF(dir);
	// Release the GIL but keep this thread's state: every later call restores
	// the same state on the same OS thread, so no thread state that torch has
	// seen is ever destroyed (see owner.go).
	owner_state = PyEval_SaveThread();
	return rc;
fail_config:
	PyConfig_Clear(&config);
	return -1;
}

int wmss_py_import(const char *module, wmss_pyerr *err) {
	PyObject *mod = NULL;
	int rc = -1;
	PyEval_RestoreThread(owner_state);
	mod = PyImport_ImportModule(module); // new
	if (mod == NULL) { fetch_error(err, "import failed"); goto done; }
	rc = 0;
done:
	Py_XDECREF(mod);
	owner_state = PyEval_SaveThread();
	return rc;
}

char *wmss_py_call(const char *module, const char *function, const char *args,
                   size_t args_len, size_t *out_len, wmss_pyerr *err) {
	PyObject *margs = NULL, *res = NULL;
	const char *buf;
	Py_ssize_t n = 0;
	char *out = NULL;

	PyEval_RestoreThread(owner_state);
	margs = Py_BuildValue("(ssy#)", module, function, args, (Py_ssize_t)args_len); // new
	if (margs == NULL) { fetch_error(err, "build arguments"); goto done; }
	// dispatch takes str arguments; the JSON goes over as bytes and is decoded
	// by json.loads, which accepts UTF-8 bytes directly.
	res = PyObject_CallObject(dispatch_fn, margs); // new
	if (res == NULL) { fetch_error(err, "call failed"); goto done; }
	buf = PyUnicode_AsUTF8AndSize(res, &n); // borrowed, lives as long as res
	if (buf == NULL) { fetch_error(err, "result is not a str"); goto done; }
	out = malloc((size_t)n + 1);
	if (out == NULL) {
		err->type = strdup("MemoryError");
		err->message = strdup("could not allocate the result buffer");
		goto done;
	}
	memcpy(out, buf, (size_t)n + 1);
	*out_len = (size_t)n;
done:
	Py_XDECREF(res);
	Py_XDECREF(margs);
	owner_state = PyEval_SaveThread();
	return out;
}
