"""Bash completion of govwatchd (completion/govwatchd.in, as the build configures it): verbs,
options, and for test-sink the sink names of the configuration given with --config.

What an admin would notice if this fails: Tab offering nothing, or stale verbs, after
`govwatchd`, or not the sinks of their own file after `govwatchd test-sink`.
"""
import os
import re
import shlex
import subprocess
import tempfile
import unittest

import gwtest

BUILD_DIR = os.environ.get("GOVWATCH_BUILD_DIR", os.path.dirname(gwtest.GOVWATCHD))
COMPLETION = os.path.join(BUILD_DIR, "completion", "govwatchd")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"

CONFIG = """\
vk: {api_url: "http://127.0.0.1:1/method"}
sinks:
  # a comment at the sinks' own indentation
  screen:
    type: console

  "mail-home":          # quoted, with a comment
    type: email
    url: "smtp://127.0.0.1:25"
    from: a@example.org
    to: [b@example.org]
  hook: {type: exec, command: [/bin/true]}
alerts: [screen]
watch:
  - topic: t
    communities: [club1]
    sinks: [screen]
"""


class CompletionTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.path.exists(COMPLETION), COMPLETION + " is missing (the build makes it)")
        self.dir = tempfile.mkdtemp(prefix="govwatch-completion-")
        self.config = os.path.join(self.dir, "govwatch.yaml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(CONFIG)

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.dir])

    def complete(self, line, with_bash_completion=False):
        """COMPREPLY for the command line `line`, the cursor at its end, words split as bash
        splits them for completion (at spaces, and "=" on its own)."""
        words = shlex.split(line) + ([""] if line.endswith(" ") else [])
        words = [w for word in words for w in re.split(r"(=)", word) if w != ""] or [""]
        if line.endswith(" ") and words[-1] != "":
            words.append("")
        array = " ".join(shlex.quote(w) for w in words)
        script = ""
        if with_bash_completion:
            script += "source %s; " % BASH_COMPLETION
        script += ("source %s; COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE=%s; COMP_POINT=%d; "
                   '_govwatchd; printf "%%s\\n" "${COMPREPLY[@]}"'
                   % (shlex.quote(COMPLETION), array, len(words) - 1, shlex.quote(line),
                      len(line)))
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                           cwd=self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        return [w for w in p.stdout.splitlines() if w]

    def verbs(self):
        p = subprocess.run([gwtest.GOVWATCHD, "--help"], capture_output=True, text=True,
                           timeout=60)
        block = p.stdout.split("Verbs:\n", 1)[1].split("\n\n", 1)[0]
        return [line.split()[0] for line in block.splitlines() if line.strip()]

    def test_verbs_are_the_binarys(self):
        self.assertEqual(sorted(self.complete("govwatchd ")), sorted(self.verbs()))
        self.assertEqual(self.complete("govwatchd ch"), ["check-config"])
        self.assertEqual(sorted(self.complete("govwatchd --config %s " % self.config)),
                         sorted(self.verbs()))

    def test_sink_names_from_the_config(self):
        self.assertEqual(self.complete("govwatchd --config %s test-sink " % self.config),
                         ["screen", "mail-home", "hook"])
        self.assertEqual(self.complete("govwatchd -c %s test-sink m" % self.config),
                         ["mail-home"])
        self.assertEqual(self.complete("govwatchd --config=%s test-sink h" % self.config),
                         ["hook"])
        # one sink name only
        self.assertEqual(self.complete("govwatchd --config %s test-sink screen " % self.config),
                         [])

    def test_sink_names_with_bash_completion_loaded(self):
        if not os.path.exists(BASH_COMPLETION):
            self.skipTest("bash-completion is not installed")
        self.assertEqual(self.complete("govwatchd --config %s test-sink " % self.config,
                                       with_bash_completion=True),
                         ["screen", "mail-home", "hook"])

    def test_options(self):
        self.assertEqual(sorted(self.complete("govwatchd --")),
                         ["--config", "--help", "--verbose", "--version"])
        self.assertEqual(sorted(self.complete("govwatchd once --")),
                         ["--all", "--dry-run", "--help", "--verbose"])
        self.assertIn("--rules", self.complete("govwatchd classify --"))
        self.assertIn("--out", self.complete("govwatchd train --"))
        self.assertEqual(sorted(self.complete("govwatchd help ")), sorted(self.verbs()))

    def test_files_after_options_that_take_them(self):
        self.assertIn(self.config, self.complete("govwatchd --config %s/gov" % self.dir))
        self.assertIn(self.config,
                      self.complete("govwatchd classify --rules %s/gov" % self.dir))


if __name__ == "__main__":
    unittest.main()
