"""Emacs with eglot (Debian's Emacs 28 + elpa-eglot 1.9), configured as docs/editors.md
says, driven by `emacs --batch`: type, `completion-at-point`, read the buffer, quit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.editors.harness import (
    EXIT_TIMEOUT,
    HEAD,
    OPTIONS,
    STARTUP_TIMEOUT,
    TYPED,
    doc_config,
    kill,
    log_tail,
    server_answer,
    server_command,
    server_pids,
    wait_for,
)

EMACS = shutil.which("emacs")
pytestmark = pytest.mark.skipif(EMACS is None,
                                reason="emacs is not installed (scripts/system-deps.sh)")

# After the documented config: open the file as a user would, let eglot-ensure's
# post-command hook connect, wait (bounded) for the model, type, complete, report.
SCRIPT = r"""
(setq eglot-workspace-configuration '((:sc2 . OPTIONS)))
(defun sc2-wait (what pred seconds)
  (let ((deadline (+ (float-time) seconds)))
    (while (not (funcall pred))
      (when (> (float-time) deadline) (error "timed out waiting for %s" what))
      (accept-process-output nil 0.1))))
(find-file "main.py")
(run-hooks 'post-command-hook)
(sc2-wait "the server" (lambda () (eglot-current-server)) STARTUP)
(sc2-wait "the model" (lambda () (member (plist-get (jsonrpc-request (eglot-current-server)
                                                                     :sc2/status (make-hash-table))
                                                    :state)
                                         '("ready" "error")))
          STARTUP)
(goto-char (point-max))
(backward-char 1)
(insert "TYPED")
(sit-for 1)
(completion-at-point)
(sc2-wait "the completion" (lambda () (not (equal (thing-at-point 'line t) "TYPED\n"))) 60)
(let ((line (buffer-substring (line-beginning-position) (line-end-position))))
  (with-temp-file "RESULT" (insert line)))
(kill-emacs 0)
"""


def elisp_string(items: list[str]) -> str:
    return "(" + " ".join(json.dumps(i) for i in items) + ")"


def test_completion_at_point_inserts_the_typed_word_and_the_suggestion(workspace, tmp_path):
    log, result = tmp_path / "server.log", tmp_path / "line.txt"
    options = "(" + " ".join(f":{k} {v}" for k, v in OPTIONS.items()) + ")"
    config = doc_config("eglot", {'("sc2-lsp" "serve")': elisp_string(server_command(log))[:-1]
                                  + f" :initializationOptions {options})"})
    script = tmp_path / "test.el"
    script.write_text(";;; -*- lexical-binding: t -*-\n(package-initialize)\n" + config
                      + SCRIPT.replace("OPTIONS", options).replace("STARTUP", "240")
                      .replace("TYPED", TYPED).replace("RESULT", str(result)))
    # --batch reads no init file; site-lisp stays, as Debian's packages need it.
    env = dict(os.environ, HOME=str(tmp_path))
    proc = subprocess.Popen([EMACS, "--batch", "-l", str(script)], cwd=workspace, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = proc.communicate(timeout=STARTUP_TIMEOUT + 120)
        assert proc.returncode == 0, f"{output[-3000:]}\n{log_tail(log)}"
        expected = TYPED + server_answer(workspace, HEAD + TYPED + "\n", 2, len(TYPED))
        assert expected != TYPED
        assert result.read_text() == expected, output[-3000:]
        wait_for(lambda: not server_pids(log), "the server to exit with Emacs", EXIT_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
        kill(server_pids(log))

