#!/bin/sh
# ctest deploy_flags: every flag that the deployment files pass to shrinkd, shrink-worker or a
# `shrink` subcommand is one that binary's --help lists (`shrink SUB --help` for the CLI):
#   deploy/docker-compose.yml (each service's command, with the binary from its entrypoint),
#   the containers of `kubectl kustomize deploy/k8s` (command + args), deploy/Dockerfile's CMD
#   and HEALTHCHECK, and the shell commands in deploy/*.sh and in the run/script entries of
#   docs/ci/*.yml.
# Also checks that the compose worker passes no --token (it comes from the secret file) and that
# the CLI commands found include `shrink submit ... --wait` (the CI examples). Exits 77 (skip)
# without python3-yaml; the k8s part is skipped without kubectl.
# Usage: deploy_flags_test.sh SOURCE_DIR SHRINKD SHRINK_WORKER SHRINK
set -eu
src=$1 shrinkd=$2 worker=$3 shrink=$4
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml is not installed"; exit 77; }
rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT
if command -v kubectl >/dev/null; then
  kubectl kustomize "$src/deploy/k8s" > "$rendered"
else
  echo "note: kubectl is not installed; the k8s manifests are not checked here"
fi
python3 - "$src" "$rendered" "$shrinkd" "$worker" "$shrink" <<'PY'
import glob
import json
import os
import re
import shlex
import subprocess
import sys

import yaml

src, rendered, shrinkd, worker, shrink = sys.argv[1:]
paths = {"shrinkd": shrinkd, "shrink-worker": worker, "shrink": shrink}
failures = []
help_cache = {}


def check(ok, message):
    print(("ok   " if ok else "FAIL ") + message)
    if not ok:
        failures.append(message)


def help_text(binary, sub):
    key = (binary, tuple(sub))
    if key not in help_cache:
        argv = [paths[binary]] + sub + ["--help"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        check(done.returncode == 0, f"{' '.join([binary] + sub)} --help exits 0")
        help_cache[key] = done.stdout + done.stderr
    return help_cache[key]


def check_argv(where, binary, args):
    """args: what follows the binary's name."""
    sub = []
    if binary == "shrink":
        if not args or args[0].startswith("-"):
            check(False, f"{where}: shrink without a subcommand: {args}")
            return
        sub = args[:2] if args[0] == "admin" and len(args) > 1 else args[:1]
    text = help_text(binary, sub)
    flags = [a.split("=", 1)[0] for a in args if re.fullmatch(r"--[a-z][a-z0-9-]*(=.*)?", a)]
    for name in flags:
        listed = re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text) is not None
        check(listed, f"{where}: {' '.join([binary] + sub)} {name} is in its --help")
    return flags


# docker-compose.yml: the binary is command[0], or the entrypoint's $0 (its last item).
compose = yaml.safe_load(open(os.path.join(src, "deploy/docker-compose.yml")))
seen = set()
for name, service in compose["services"].items():
    command = service.get("command") or []
    entry = service.get("entrypoint") or []
    if command and command[0] in paths:
        binary, args = command[0], command[1:]
    elif entry and entry[-1] in paths:
        binary, args = entry[-1], command
    else:
        continue
    seen.add(binary)
    flags = check_argv(f"compose {name}", binary, args)
    if binary == "shrink-worker":
        check("--token" not in flags, f"compose {name}: no --token on the command line")
check({"shrinkd", "shrink-worker"} <= seen, f"compose runs shrinkd and shrink-worker: {seen}")

# Kubernetes containers.
if os.path.getsize(rendered) > 0:
    for doc in yaml.safe_load_all(open(rendered)):
        spec = (doc or {}).get("spec", {}).get("template", {}).get("spec", {})
        for c in spec.get("containers", []):
            argv = c.get("command", []) + c.get("args", [])
            if argv and argv[0] in paths:
                check_argv(f"k8s {doc['kind']}/{doc['metadata']['name']}", argv[0], argv[1:])

# Dockerfile: CMD (JSON form, may span lines) and HEALTHCHECK's shell command.
dockerfile = open(os.path.join(src, "deploy/Dockerfile")).read().replace("\\\n", " ")
for line in dockerfile.splitlines():
    if line.startswith("CMD ["):
        argv = json.loads(line[4:])
        check_argv("Dockerfile CMD", argv[0], argv[1:])
    elif line.startswith("HEALTHCHECK"):
        argv = shlex.split(line.split(" CMD ", 1)[1].split(";")[0].split(">")[0])
        check_argv("Dockerfile HEALTHCHECK", argv[0], argv[1:])


# Shell commands in scripts and CI files: after joining continued lines, every word that names a
# binary starts a command, up to the next ; | && || ) or line end.
def shell_commands(text):
    text = re.sub(r"\\\n", " ", text)
    for line in text.splitlines():
        line = line.split(" #", 1)[0]
        if line.lstrip().startswith("#"):
            continue
        try:
            words = shlex.split(line, comments=False)
        except ValueError:
            continue
        for i, word in enumerate(words):
            # A binary's name anywhere starts a command (`docker compose exec server shrink
            # admin ...`, `VAR=$(shrink ...)`), except as an argument of echo/printf.
            if os.path.basename(word) in paths and (i == 0 or words[i - 1] not in
                                                    {"echo", "printf"}):
                rest = []
                for w in words[i + 1:]:
                    if w in {";", "&&", "||", "|", ")"} or w.endswith(";"):
                        if w.endswith(";") and w != ";":
                            rest.append(w[:-1])
                        break
                    rest.append(w)
                yield os.path.basename(word), rest


# CI files: the shell of every `run` (GitHub) and `script` (GitLab) entry.
def ci_scripts(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script", "before_script", "after_script"):
                for item in value if isinstance(value, list) else [value]:
                    yield str(item)
            else:
                yield from ci_scripts(value)
    elif isinstance(node, list):
        for value in node:
            yield from ci_scripts(value)


texts = [(p, open(p).read()) for p in sorted(glob.glob(os.path.join(src, "deploy/*.sh")))]
for path in sorted(glob.glob(os.path.join(src, "docs/ci/*.yml"))):
    texts += [(path, script) for script in ci_scripts(yaml.safe_load(open(path)))]
cli = []
for path, text in texts:
    for binary, args in shell_commands(text):
        check_argv(os.path.relpath(path, src), binary, args)
        cli.append((os.path.relpath(path, src), binary, args))
ci_submits = [c for c in cli if c[0].startswith("docs/ci/") and c[2][:1] == ["submit"] and
              "--wait" in c[2]]
check(len(ci_submits) >= 2, f"docs/ci has `shrink submit ... --wait` (GitHub and GitLab): "
      f"{[c[0] for c in ci_submits]}")
print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
PY
