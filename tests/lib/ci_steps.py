#!/usr/bin/python3
"""Extracts the shell steps of the CI recipes in a Markdown file, for tests/e2e/ci_recipes.bats.

    ci_steps.py DOC.md RECIPE OUTDIR

RECIPE is the file a fenced ```yaml block names in its first line (`# .gitlab-ci.yml`). Writes
OUTDIR/JOB/NN.sh, one script per shell step of each job in the file's order: GitHub Actions
`run:` steps, GitLab CI `script:` lines (`before_script:` installs tools: not extracted, the
test provides them). Each script starts with `set -eo pipefail` (both runners' bash) and the
environment the YAML gives the step (step, then job, then workflow `env:`; GitLab
`variables:`) as defaults the test's own exports override; a value that is a `${{ }}`
expression must be exported by the test (the script fails naming it otherwise). The steps of
actions/upload-artifact and actions/download-artifact become copies to and from
$CI_ARTIFACTS. OUTDIR/jobs lists the jobs in order.
"""
import os
import re
import shlex
import sys

import yaml


def recipes(text):
    for m in re.finditer(r"^```yaml\n(.*?)^```", text, re.M | re.S):
        body = m.group(1)
        first = body.split("\n", 1)[0]
        if first.startswith("# "):
            yield first[2:].strip(), body


def env_lines(*envs):
    out = []
    seen = set()
    for env in envs:
        for k, v in (env or {}).items():
            if k in seen:
                continue
            seen.add(k)
            v = str(v)
            if "${{" in v:
                out.append(': "${%s:?%s is %s: set by the test}"' % (k, k, v.replace("${{", "{{").replace('"', "'")))
            else:
                # GitLab expands $VARS in variables; GitHub's literal values hold none here
                out.append(': "${%s:=%s}"' % (k, v.replace('"', '\\"')))
                out.append("export %s" % k)
    return out


def github_steps(doc):
    for job, spec in doc["jobs"].items():
        steps = []
        for st in spec.get("steps", []):
            env = env_lines(st.get("env"), spec.get("env"), doc.get("env"))
            if "run" in st:
                steps.append(env + [st["run"]])
            elif st.get("uses", "").startswith("actions/upload-artifact"):
                p = shlex.quote(st["with"]["path"])
                steps.append(['# stand-in for %s' % st["uses"],
                              'mkdir -p "$CI_ARTIFACTS" && cp -R %s/. "$CI_ARTIFACTS/"' % p])
            elif st.get("uses", "").startswith("actions/download-artifact"):
                p = shlex.quote(st["with"]["path"])
                steps.append(['# stand-in for %s' % st["uses"],
                              'mkdir -p %s && cp -R "$CI_ARTIFACTS/." %s/' % (p, p)])
        yield job, steps


def gitlab_steps(doc):
    for job, spec in doc.items():
        if not isinstance(spec, dict) or "script" not in spec:
            continue
        env = env_lines(spec.get("variables"), doc.get("variables"))
        yield job, [env + [line] for line in spec["script"]]


def main():
    doc_path, name, outdir = sys.argv[1:4]
    with open(doc_path) as f:
        text = f.read()
    found = [body for n, body in recipes(text) if n == name]
    if len(found) != 1:
        sys.exit("ci_steps.py: %s: %d recipes named %s" % (doc_path, len(found), name))
    doc = yaml.safe_load(found[0])
    jobs = github_steps(doc) if "jobs" in doc else gitlab_steps(doc)
    names = []
    for job, steps in jobs:
        names.append(job)
        os.makedirs(os.path.join(outdir, job), exist_ok=True)
        for i, lines in enumerate(steps):
            with open(os.path.join(outdir, job, "%02d.sh" % i), "w") as f:
                f.write("set -eo pipefail\n" + "\n".join(lines) + "\n")
    with open(os.path.join(outdir, "jobs"), "w") as f:
        f.write("".join(n + "\n" for n in names))


main()
