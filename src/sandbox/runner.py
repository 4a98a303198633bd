# Runs inside each sandbox worker once, after Pyodide has loaded: cuts the Python side off from the host and
# defines _sandbox_run(code, entry, max_output) -> JSON string, which executes one program in a fresh namespace
# and restores the interpreter's shared state afterwards so one program cannot affect the next.
import builtins as _b
import gc as _gc
import json as _json
import sys as _sys
import os as _os
import posix as _posix

# Modules a program may import directly (pure computation). Everything else raises ImportError.
_ALLOWED = frozenset({
    'math', 'cmath', 'fractions', 'decimal', 'statistics', 'numbers', 'random',
    'itertools', 'functools', 'operator', 'collections', 'heapq', 'bisect', 'copy',
    'datetime', 'calendar', 'time', 're', 'string', 'typing', 'dataclasses', 'enum',
})
# Host bridges and process/IO modules: removed from sys.modules and refused by the meta-path hook.
_BLOCKED_TOP = frozenset({
    'js', 'pyodide_js', 'pyodide', '_pyodide', '_pyodide_core', 'ctypes', '_ctypes', 'micropip',
    'subprocess', '_posixsubprocess', 'socket', '_socket', 'ssl', 'select', 'selectors', 'asyncio', '_asyncio',
    'multiprocessing', 'threading', '_thread', 'signal', '_signal', 'mmap', 'fcntl', 'termios', 'pty', 'tty',
    'urllib', 'http', 'ftplib', 'smtplib', 'webbrowser', 'shutil', 'tempfile', 'glob', 'pathlib', 'io', '_io',
    'importlib', 'zipimport', 'pkgutil', 'runpy', 'code', 'codeop', 'pdb', 'sqlite3', '_sqlite3',
    '_testcapi', '_testinternalcapi', '_testlimitedcapi', '_testbuffer', '_testclinic', '_testclinic_limited',
    '_xxtestfuzz', '_remote_debugging', 'faulthandler', 'tracemalloc', '_tracemalloc', 'gc', 'inspect', 'os', 'posix', 'sys',
    '_imp', '_frozen_importlib', '_frozen_importlib_external', '_ssl', '_multiprocessing', '_posixshmem', '_interpreters',
    '_interpqueues', '_interpchannels', 'builtins',
})


def _denied(what):
    def f(*args, **kwargs):
        raise PermissionError(f'{what} is not available in the sandbox')
    f.__name__ = what.replace('.', '_')
    return f


class _BlockFinder:
    """First entry of sys.meta_path: refuses blocked modules no matter who imports them (after boot)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition('.')[0] in _BLOCKED_TOP and name not in _sys.modules:
            raise ImportError(f"module '{name}' is not available in the sandbox")
        return None


# 1. Host bridges: scrub every JsProxy value held in a module namespace or a class dict (webloop's scheduleCallback,
#    the package loader's tables, pyodide_js itself), including Pyodide's own modules, then drop those modules.
def _is_js(v):
    if isinstance(v, type):
        return False
    return any(c.__name__.startswith('Js') and c.__module__ in ('pyodide.ffi', '_pyodide_core', 'pyodide', '_pyodide._core_docs') for c in type(v).__mro__)


for _m in list(_sys.modules.values()):
    _d = getattr(_m, '__dict__', None)
    if not isinstance(_d, dict):
        continue
    for _k, _v in list(_d.items()):
        if _is_js(_v):
            _d[_k] = None
        elif isinstance(_v, type) and getattr(_v, '__module__', '') == getattr(_m, '__name__', None):
            for _ck, _cv in list(vars(_v).items()):
                if _is_js(_cv):
                    try:
                        setattr(_v, _ck, None)
                    except (TypeError, AttributeError):
                        pass
for _name in list(_sys.modules):
    if _name in ('js', 'pyodide_js', 'pyodide', '_pyodide', '_pyodide_core', 'micropip') or _name.startswith(('pyodide_js.', 'pyodide.', '_pyodide.', 'micropip.')):
        del _sys.modules[_name]

# 2. Processes, sockets, files: neutralized for everyone (the JS side has backstops too).
for _mod in (_os, _posix):
    for _fn in ('system', 'popen', 'fork', 'forkpty', 'kill', 'killpg', 'execv', 'execve', 'execl', 'execle', 'execlp',
                'execlpe', 'execvp', 'execvpe', 'spawnv', 'spawnve', 'spawnl', 'spawnle', 'posix_spawn', 'posix_spawnp',
                'chdir', 'chroot', 'mkfifo', 'mknod', 'symlink', 'link'):
        if hasattr(_mod, _fn):
            setattr(_mod, _fn, _denied('os.' + _fn))
for _name in ('ctypes', '_ctypes', 'socket', '_socket', 'subprocess', '_posixsubprocess', 'ssl', 'asyncio', '_asyncio'):
    _sys.modules[_name] = None  # "import x" now fails with ImportError
_sys.meta_path.insert(0, _BlockFinder)
_os.chdir = _denied('os.chdir')

# 3. What a program sees: builtins without open/input/help/exit and an import restricted to _ALLOWED.
_real_import = _b.__import__


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level != 0:
        raise ImportError('relative imports are not available in the sandbox')
    top = name.partition('.')[0]
    # C code imports its private helpers through the caller's __import__ (datetime.strptime → _strptime): let
    # underscore modules through unless blocked.
    if top not in _ALLOWED and not (top.startswith('_') and top not in _BLOCKED_TOP):
        raise ImportError(f"import of '{name}' is not allowed in the sandbox")
    return _real_import(name, globals, locals, fromlist, level)


_PROGRAM_BUILTINS = dict(vars(_b))
for _n in ('open', 'input', 'breakpoint', 'help', 'exit', 'quit', 'copyright', 'credits', 'license'):
    _PROGRAM_BUILTINS[_n] = _denied(_n)
_PROGRAM_BUILTINS['__import__'] = _guarded_import


class _CappedWriter:
    """stdout/stderr of a program: keeps the first `cap` characters, drops the rest."""

    def __init__(self, cap):
        self.cap = cap
        self.parts = []
        self.size = 0
        self.dropped = 0

    def write(self, s):
        s = str(s)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(s[:room])
        self.size += min(len(s), max(room, 0))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def flush(self):
        pass

    def text(self):
        return ''.join(self.parts)


# Shared state restored after each run: builtins, the allowed modules' namespaces (as first seen), sys settings.
_BUILTINS_SNAPSHOT = dict(vars(_b))
_MODULE_SNAPSHOTS = {}
_SYS_SNAPSHOT = {k: getattr(_sys, k) for k in ('path', 'meta_path', 'path_hooks', 'modules', 'stdout', 'stderr', 'stdin', 'displayhook', 'excepthook')}
_SYS_LISTS = {'path': list(_sys.path), 'meta_path': list(_sys.meta_path), 'path_hooks': list(_sys.path_hooks)}
_RECURSION = 1000
_sys.setrecursionlimit(_RECURSION)
_INT_DIGITS = _sys.get_int_max_str_digits()
# Import every allowed module now, so each is snapshotted clean before any program can touch it.
for _n in sorted(_ALLOWED):
    _real_import(_n)
import numbers as _numbers
for _n, _m in list(_sys.modules.items()):
    if _n.partition('.')[0] in _ALLOWED and _m is not None and isinstance(getattr(_m, '__dict__', None), dict):
        _MODULE_SNAPSHOTS[_n] = (_m, dict(_m.__dict__))
import decimal as _DECIMAL
import random as _RANDOM
_DECIMAL_DEFAULTS = {a: getattr(_DECIMAL.DefaultContext, a) for a in ('prec', 'rounding', 'Emin', 'Emax', 'capitals', 'clamp')}
_DECIMAL_DEFAULTS['traps'] = dict(_DECIMAL.DefaultContext.traps)
_RANDOM.seed(0)
_gc.collect()
_BASE_MODULES = dict(_sys.modules)


# The runner's own view of builtins, bound once: a program that rebinds builtins.int cannot fool it.
_B_isinstance = _b.isinstance
_B_int = _b.int
_B_float = _b.float
_B_str = _b.str
_B_bool = _b.bool
_B_complex = _b.complex
_B_repr = _b.repr
_B_type = _b.type
_B_dict = _b.dict
_B_callable = _b.callable
_B_compile = _b.compile
_B_exec = _b.exec
_B_len = _b.len
_B_list = _b.list
_B_any = _b.any
_B_setattr = _b.setattr
_B_getattr = _b.getattr
_B_object = _b.object
_B_max = _b.max
_B_min = _b.min
_B_BaseException = _b.BaseException
_B_KeyboardInterrupt = _b.KeyboardInterrupt
_B_MemoryError = _b.MemoryError
_B_RecursionError = _b.RecursionError
_B_SyntaxError = _b.SyntaxError
_B_ValueError = _b.ValueError


def _restore():
    for k, v in _SYS_SNAPSHOT.items():
        _B_setattr(_sys, k, v)
    for k, v in _SYS_LISTS.items():
        _B_getattr(_sys, k)[:] = v
    bd = vars(_b)
    if bd != _BUILTINS_SNAPSHOT:
        bd.clear()
        bd.update(_BUILTINS_SNAPSHOT)
    for name, (m, snap) in _MODULE_SNAPSHOTS.items():
        d = m.__dict__
        if d != snap:
            d.clear()
            d.update(snap)
    mods = _sys.modules
    if _B_len(mods) != _B_len(_BASE_MODULES) or _B_any(mods.get(k) is not v for k, v in _BASE_MODULES.items()):
        for k in _B_list(mods):
            if k not in _BASE_MODULES:
                del mods[k]
        for k, v in _BASE_MODULES.items():
            mods[k] = v
    _sys.setrecursionlimit(_RECURSION)
    _sys.set_int_max_str_digits(_INT_DIGITS)
    _sys.settrace(None)
    _sys.setprofile(None)
    if not _gc.isenabled():
        _gc.enable()
    # state outside module namespaces: the Decimal contexts and the shared random generator
    _dc = _DECIMAL.DefaultContext
    for _attr, _val in _DECIMAL_DEFAULTS.items():
        _B_setattr(_dc, _attr, _B_dict(_val) if _attr == 'traps' else _val)
    _dc.clear_flags()
    _DECIMAL.setcontext(_dc.copy())
    _RANDOM.seed(0)


def _describe(value):
    if _B_isinstance(value, _B_bool):
        return {'type': 'bool', 'repr': _B_repr(_B_bool(value))}
    if _B_isinstance(value, _B_int):
        return {'type': 'int', 'value': _B_int.__repr__(_B_int(value))}
    if _B_isinstance(value, _B_float):
        return {'type': 'float', 'value': _B_float.__repr__(_B_float(value))}
    if _B_isinstance(value, _B_str):
        return {'type': 'str', 'value': _B_str.__str__(value)[:200]}
    if _B_isinstance(value, _B_complex):
        return {'type': 'complex', 'real': _B_float(value.real), 'imag': _B_float(value.imag)}
    if _B_isinstance(value, _numbers.Rational):
        return {'type': _B_type(value).__name__, 'value': _B_float.__repr__(_B_float(value)), 'exact': f'{value.numerator}/{value.denominator}'}
    if _B_isinstance(value, _numbers.Real):
        return {'type': _B_type(value).__name__, 'value': _B_float.__repr__(_B_float(value))}
    t = _B_type(value).__name__
    if t == 'Decimal':
        return {'type': 'Decimal', 'value': _B_str(value)}
    r = _B_object.__repr__(value) if t not in ('list', 'tuple', 'dict', 'set', 'NoneType') else _B_repr(value)
    return {'type': t, 'repr': r[:200]}


def _sandbox_run(code, entry, max_output):
    out = _CappedWriter(max_output)
    g = {'__name__': '__main__', '__builtins__': _B_dict(_PROGRAM_BUILTINS)}
    res = None
    try:
        _sys.stdout = out
        _sys.stderr = out
        try:
            compiled = _B_compile(code, '<program>', 'exec')
        except (_B_SyntaxError, _B_ValueError) as e:
            res = {'status': 'error', 'errorType': 'SyntaxError', 'message': _B_str(e)}
        else:
            _B_exec(compiled, g)
            fn = g.get(entry)
            if _B_callable(fn):
                value = fn()
            elif 'result' in g:
                value = g['result']
            else:
                res = {'status': 'error', 'errorType': 'NoResult', 'message': f'the program defines neither {entry}() nor result'}
            if res is None:
                res = {'status': 'ok', 'value': _describe(value)}
    except _B_KeyboardInterrupt:
        res = {'status': 'timeout', 'message': 'interrupted at the time limit'}
    except _B_MemoryError:
        res = {'status': 'memory', 'message': 'MemoryError'}
    except _B_RecursionError as e:
        res = {'status': 'error', 'errorType': 'RecursionError', 'message': _B_str(e)[:300]}
    except _B_BaseException as e:
        try:
            msg = _B_str(e)[:300]
        except _B_BaseException:
            msg = '<unprintable>'
        res = {'status': 'error', 'errorType': _B_type(e).__name__, 'message': msg}
    finally:
        _restore()
        g.clear()
    res['stdout'] = out.text()
    return _json.dumps(res)


def _sandbox_selftest():
    return _json.dumps({'modules': _B_len(_sys.modules), 'meta_path0': _B_type(_sys.meta_path[0]).__name__ if not _B_isinstance(_sys.meta_path[0], type) else _sys.meta_path[0].__name__})


del _name, _m, _d, _k, _v, _mod, _fn, _n, _ck, _cv
