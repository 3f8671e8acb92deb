"""tools/install_env.sh: its logic in seconds, and shellcheck on every script.

The real install (torch, the 13-30 minute mmcv build) runs in `make test`
itself, and once from a clean clone with an empty cache (README). Here the
interpreter the script is given (``PYTHON``) is a stand-in that records each
call and its working directory and makes the files pip would make, so every
branch runs in seconds: relative and absolute venv paths, from another
directory and through ``make -C``, an empty and a filled wheel cache, a failed
build, an interrupted environment and two installs at once.
"""
import os
import os.path as osp
import shutil
import stat
import subprocess
import threading

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SCRIPT = osp.join(ROOT, 'tools', 'install_env.sh')

# A stand-in for python3 and for the venv's python: records "cwd|argv" to
# $FAKE_LOG, and does what the script relies on for each call it makes.
FAKE_PYTHON = r'''#!/usr/bin/env bash
echo "$PWD|$0|$*" >> "$FAKE_LOG"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && chmod +x "$3/bin/python"; exit 0
fi
if [ "$1" = "-c" ]; then
  case "$2" in
    *version_info*) echo cp311 ;;
    *mmcv.ops*) [ -n "${FAKE_IMPORT_FAIL:-}" ] && { echo "ImportError: _ext" >&2; exit 1; } ;;
  esac
  exit 0
fi
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  args=" $* "
  sub=""; for a in "${@:3}"; do case "$a" in -*) ;; *) sub="$a"; break ;; esac; done
  case "$sub" in
    download)
      d="${args##* -d }"; d="${d%% *}"
      src="$(mktemp -d)"; mkdir "$src/mmcv-2.1.0"
      echo "extra_compile_args = ['-std=c++17']" > "$src/mmcv-2.1.0/setup.py"
      tar -czf "$d/mmcv-2.1.0.tar.gz" -C "$src" mmcv-2.1.0; exit 0 ;;
    wheel)
      grep -q 'c++20' setup.py || { echo "setup.py not patched in $PWD" >&2; exit 2; }
      sleep "${FAKE_BUILD_SECONDS:-0}"
      if [ -n "${FAKE_BUILD_FAIL:-}" ]; then
        echo "mmcv/ops/csrc/pytorch/nms.cpp:1:10: error: fake compiler failure" >&2; exit 1
      fi
      w="${args##* -w }"; w="${w%% *}"; mkdir -p "$w"
      touch "$w/mmcv-2.1.0-cp311-cp311-linux_x86_64.whl"; exit 0 ;;
    install) exit 0 ;;
  esac
fi
echo "fake python: unexpected call $*" >&2; exit 3
'''


@pytest.fixture
def fake(tmp_path):
    py = tmp_path / 'python3'
    py.write_text(FAKE_PYTHON)
    py.chmod(py.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / 'calls.log'
    log.touch()
    env = dict(os.environ, PYTHON=str(py), FAKE_LOG=str(log),
               MIM_PLUGINS_CACHE=str(tmp_path / 'cache'), HOME=str(tmp_path))
    env.pop('MAKEFLAGS', None)
    return env, log


def run(args, env, cwd, **kw):
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120, **kw)


def calls(log, what):
    return [line for line in log.read_text().splitlines() if what in line]


def test_relative_venv_from_another_directory_builds_and_stamps(fake, tmp_path):
    env, log = fake
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    proc = run(['bash', SCRIPT, 'rel/venv'], env, elsewhere)
    assert proc.returncode == 0, proc.stderr
    venv = elsewhere / 'rel' / 'venv'
    assert (venv / '.mim_plugins_env_ok').is_file()
    # the build ran inside the unpacked source with the venv's absolute path
    (build,) = calls(log, 'version-check wheel ')
    cwd, exe = build.split('|')[:2]
    assert cwd.endswith('mmcv-2.1.0') and exe == str(venv / 'bin' / 'python')
    wheels = list((tmp_path / 'cache' / 'wheels').glob('*/mmcv-*.whl'))
    assert len(wheels) == 1 and 'torch2.14.1-cp311' in str(wheels[0])
    # the stack is installed from the cached wheel, then checked to import
    assert any(str(wheels[0]) in c for c in calls(log, 'version-check install '))
    assert calls(log, 'import mmcv.ops')
    # stamped: a second run reuses the environment without calling pip
    n = len(log.read_text().splitlines())
    proc = run(['bash', SCRIPT, 'rel/venv'], env, elsewhere)
    assert proc.returncode == 0 and 'reusing' in proc.stdout
    assert not calls(log, ' -m pip ')[n:]


def test_make_dash_c_with_cache_present_skips_the_build(fake, tmp_path):
    env, log = fake
    wheel_dir = (tmp_path / 'cache' / 'wheels' /
                 'mmcv-2.1.0-torch2.14.1-cp311-cpu')
    wheel_dir.mkdir(parents=True)
    (wheel_dir / 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl').touch()
    venv = tmp_path / 'v'
    proc = run(['make', '-C', ROOT, 'env', f'VENV={venv}'], env, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'using the cached mmcv wheel' in proc.stdout
    assert not calls(log, 'version-check download ') and not calls(log, 'version-check wheel ')
    assert (venv / '.mim_plugins_env_ok').is_file()
    # a relative VENV given to make is relative to where make runs (-C ROOT)
    rel = f'.venv-test-{os.getpid()}'
    try:
        proc = run(['make', '-C', ROOT, 'env', f'VENV={rel}'], env, tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert osp.isfile(osp.join(ROOT, rel, '.mim_plugins_env_ok'))
    finally:
        shutil.rmtree(osp.join(ROOT, rel), ignore_errors=True)


def test_failed_build_names_its_log_and_is_repaired_next_time(fake, tmp_path):
    env, log = fake
    venv = tmp_path / 'v'
    proc = run(['bash', SCRIPT, str(venv)], dict(env, FAKE_BUILD_FAIL='1'),
               tmp_path)
    assert proc.returncode != 0
    assert 'the mmcv 2.1.0 build failed' in proc.stderr
    logs = list((tmp_path / 'cache' / 'logs').glob('mmcv-*-build-*.log'))
    assert len(logs) == 1 and str(logs[0]) in proc.stderr
    assert 'fake compiler failure' in logs[0].read_text()
    assert 'MAX_JOBS=1' in proc.stderr
    assert not (venv / '.mim_plugins_env_ok').exists()
    assert not list((tmp_path / 'cache' / 'wheels').glob('*/*.whl'))
    # the next run builds again and finishes; the failure is not cached
    proc = run(['bash', SCRIPT, str(venv)], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (venv / '.mim_plugins_env_ok').is_file()


def test_stack_that_does_not_import_is_not_stamped(fake, tmp_path):
    env, _ = fake
    venv = tmp_path / 'v'
    proc = run(['bash', SCRIPT, str(venv)], dict(env, FAKE_IMPORT_FAIL='1'),
               tmp_path)
    assert proc.returncode != 0 and 'does not import' in proc.stderr
    assert 'ImportError: _ext' in proc.stderr
    assert not (venv / '.mim_plugins_env_ok').exists()


def test_interrupted_venv_is_rebuilt_and_old_stamp_not_trusted(fake, tmp_path):
    env, log = fake
    venv = tmp_path / 'v'
    # an interrupted `python -m venv`: the directory without an interpreter
    (venv / 'lib').mkdir(parents=True)
    (venv / 'lib' / 'leftover').touch()
    proc = run(['bash', SCRIPT, str(venv)], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert 'incomplete' in proc.stdout
    assert not (venv / 'lib' / 'leftover').exists()
    # a stamp from another version of the requirements is not trusted
    (venv / '.mim_plugins_env_ok').write_text('0123456789abcdef\n')
    n = len(calls(log, 'version-check install '))
    proc = run(['bash', SCRIPT, str(venv)], env, tmp_path)
    assert proc.returncode == 0 and 'reusing' not in proc.stdout
    assert len(calls(log, 'version-check install ')) > n


def test_two_installs_at_once_build_once(fake, tmp_path):
    env, log = fake
    env = dict(env, FAKE_BUILD_SECONDS='2')
    procs = [None, None]

    def go(i):
        procs[i] = run(['bash', SCRIPT, str(tmp_path / f'v{i}')], env,
                       tmp_path)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        assert p.returncode == 0, p.stderr
    assert len(calls(log, 'version-check wheel ')) == 1
    assert sum('using the cached mmcv wheel' in p.stdout for p in procs) == 1


def test_shellcheck_clean():
    if shutil.which('shellcheck') is None:
        pytest.skip('shellcheck is not installed (Debian: apt-get install '
                    'shellcheck; .ci/run installs it where apt can)')
    scripts = [osp.join(ROOT, 'tools', n) for n in sorted(
        os.listdir(osp.join(ROOT, 'tools'))) if n.endswith('.sh')]
    scripts.append(osp.join(ROOT, '.ci', 'run'))
    assert len(scripts) >= 5
    proc = subprocess.run(['shellcheck', *scripts], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout
