"""An admin's own labelled examples (classifier.examples): checked like the config, learned from
at start, cached in the state directory, and a broken file never takes the running model away.

What an admin would notice if this fails: a typo in the example file found only when the daemon
refuses to start, a retraining at every restart, posts like their examples still missed, or a
reload that silently drops the model.
"""
import json
import os
import re
import signal
import unittest

import gwtest
from gwtest import wait_for
from test_lifecycle import Base

# Fairs are no built-in category: everything the model knows of them comes from these examples.
FAIRS = [
    "В субботу на центральной площади пройдёт сельскохозяйственная ярмарка. Фермеры района "
    "привезут мёд, овощи, молочную продукцию.",
    "Приглашаем на ярмарку выходного дня! Свежие овощи и фрукты от местных производителей, "
    "с 8:00 до 14:00 у Дома культуры.",
    "Осенняя ярмарка: фермерская продукция, саженцы, мёд и выпечка. Ждём всех в воскресенье на "
    "рыночной площади станицы.",
    "Ярмарка «Покупай кубанское» откроется в пятницу. Местные фермеры предложат мясо, сыры и "
    "соленья по ценам производителей.",
    "На ярмарке выходного дня в парке будут торговать фермерские хозяйства района: картофель, "
    "капуста, яблоки, мёд.",
    "Продовольственная ярмарка пройдёт 12 октября на площади у администрации. Приходите за "
    "свежей продукцией от фермеров!",
    "Новогодняя ярмарка местных производителей: мёд, сыры, колбасы, выпечка. С 10:00 в субботу "
    "на площади Победы.",
    "Весенняя ярмарка саженцев и рассады пройдёт в воскресенье. Фермеры и садоводы района "
    "ждут покупателей с 7 утра.",
    "Ярмарка выходного дня снова работает! Овощи, фрукты, молоко и мясо от фермеров по "
    "доступным ценам.",
    "В станице пройдёт традиционная ярмарка фермерской продукции. Торговые места бесплатные, "
    "приглашаем производителей и покупателей.",
    "Сельхозярмарка в эту субботу: мёд, овощи, зелень, домашние заготовки от фермеров района.",
    "Приходите на ярмарку у Дома культуры: фермерская продукция, саженцы плодовых деревьев и "
    "мёд с местных пасек.",
]


def write_examples(path, extra=""):
    with open(path, "w", encoding="utf-8") as f:
        for text in FAIRS:
            f.write(json.dumps({"text": text, "labels": ["fair"]}, ensure_ascii=False) + "\n")
        f.write(extra)


CLASSIFIER = """\
classifier:
  categories:
    fair: {phrases: ["блошиный рынок"]}
  examples: mine.jsonl
"""


class ExamplesOnceTest(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        self.emu = gwtest.Emulator(self.dir)
        self.examples = os.path.join(self.dir, "mine.jsonl")
        write_examples(self.examples)
        self.config = gwtest.write_config(
            self.dir, self.emu, CLASSIFIER +
            "sinks:\n  screen: {type: console}\n"
            "watch:\n  - topic: Район\n    communities: [-100001]\n"
            "    categories: [fair]\n    sinks: [screen]\n")
        self.cache = os.path.join(self.dir, "state", "model.bin")

    def tearDown(self):
        self.emu.stop()
        self.tmp.__exit__(None, None, None)

    def once(self):
        p = gwtest.govwatchd("once", config=self.config, check=0)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def test_check_config_names_the_line(self):
        write_examples(self.examples, '{"text": "Опрос о сквере", "labels": ["civc"]}\n')
        p = gwtest.govwatchd("check-config", config=self.config, check=1)
        self.assertRegex(p.stderr, r"govwatch\.yaml:\d+:\d+: classifier\.examples: "
                         r'mine\.jsonl:%d: unknown category "civc"' % (len(FAIRS) + 1))
        os.remove(self.examples)
        p = gwtest.govwatchd("check-config", config=self.config, check=1)
        self.assertIn("mine.jsonl: No such file or directory", p.stderr)

    def test_learns_caches_and_retrains_when_they_change(self):
        # 1. first start: trained on the shipped corpus and the examples, cached
        p = self.once()
        self.assertRegex(p.stderr, r"Classifier model trained on \d+ examples, yours included")
        self.assertTrue(os.path.exists(self.cache), p.stderr)
        mtime = os.stat(self.cache).st_mtime_ns

        # 2. a fair announced in words none of the examples has, and no user phrase matches
        post = self.emu.add_post(-100001, "В воскресенье у Дома культуры — ярмарка: фермеры "
                                          "привезут мёд, овощи и домашние сыры.")
        other = self.emu.add_post(-100001, "Поздравляем учителей с профессиональным праздником!")
        p = self.once()
        self.assertIn("loaded from", p.stderr, "a restart must not retrain")
        self.assertEqual(os.stat(self.cache).st_mtime_ns, mtime)
        self.assertIn("https://vk.com/wall-100001_%d" % post, p.stdout, p.stderr)
        self.assertNotIn("https://vk.com/wall-100001_%d" % other, p.stdout)

        # 3. new examples: trained again
        write_examples(self.examples, json.dumps(
            {"text": "Ярмарка мёда пройдёт в субботу на площади", "labels": ["fair"]},
            ensure_ascii=False) + "\n")
        p = self.once()
        self.assertRegex(p.stderr, r"trained on \d+ examples")
        self.assertNotEqual(os.stat(self.cache).st_mtime_ns, mtime)

    def test_classify_explains_the_model(self):
        p = gwtest.govwatchd("classify", "--explain", input_text=json.dumps(
            {"id": 1, "owner_id": -1, "date": 1773126000,
             "text": "Завтра с 9 до 17 часов не будет воды на улице Садовой"}, ensure_ascii=False))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('"outage"', p.stdout)
        self.assertRegex(p.stderr, r"model \(words -> with the rules / threshold\):.* "
                                   r"outage \d\.\d\d->\d\.\d\d/\d\.\d\d yes")
        self.assertRegex(p.stderr, r'outage by "[^"]+" \+\d')


class ExamplesReloadTest(Base):
    def test_broken_examples_keep_the_running_model(self):
        examples = os.path.join(self.dir, "mine.jsonl")
        write_examples(examples)
        sinks = "  screen: {type: console}\n"
        config = self.config(sinks, "  - topic: Район\n    communities: [-100001]\n"
                                    "    categories: [fair]\n    sinks: [screen]\n",
                             extra="poll_interval: 2s\n" + CLASSIFIER)
        d = self.start(config)
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
        wait_for(lambda: self.first_seen(-100001), what="first sight")

        write_examples(examples, '{"text": "Ярмарка", "labels": ["fairs"]}\n')
        d.proc.send_signal(signal.SIGHUP)
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1 after a failed reload")
        wait_for(lambda: re.search(r'mine\.jsonl:%d: unknown category "fairs"' %
                                   (len(FAIRS) + 1), d.stderr()), what="FILE:LINE of the error")
        self.assertIn("keeping the running configuration", d.stderr())
        post = self.emu.add_post(-100001, "Ярмарка фермерской продукции в субботу на площади: "
                                          "мёд, овощи, саженцы.")
        wait_for(lambda: "wall-100001_%d" % post in d.stdout(), what="a fair, after the reload")
        self.assertEqual(self.start_count(d), 1)
        self.assert_clean_stop(d)

    @staticmethod
    def start_count(d):
        return len(re.findall(r"Classifier model trained on", d.stderr()))


if __name__ == "__main__":
    unittest.main()
