"""govwatchd against a VK as strange as the real one: the emulator's quirks (tests/vkemu/README.md,
"Quirks") switched on one by one, each checked in what the daemon prints and records.

What a user would notice if this fails: a community reported with another one's error (or a
whole batch retried) because VK closed execute_errors with an entry of its own; a mistyped
community id that stalls the sweep or is polled forever with a baffling message; an announced
broadcast that arrives without its start time, or not as a broadcast at all, because VK flagged
the video differently; posts lost when VK adds fields the daemon has never seen; or a whole
batch of walls retried four times and lost, because one wall's answer was too large to read.
"""
import datetime
import json
import os
import re
import time
import unittest
import urllib.parse
import urllib.request

import gwtest

URL_RE = re.compile(r"https://vk\.com/wall(-?\d+)_(\d+)")


def urls(stdout):
    return sorted(m.group(0) for m in URL_RE.finditer(stdout))


def watch(communities):
    return ("sinks:\n"
            "  screen: {type: console}\n"
            "watch:\n"
            "  - topic: Тест\n"
            "    communities: [%s]\n"
            "    categories: all\n"
            "    uncategorized: true\n"
            "    sinks: [screen]\n" % ", ".join(str(c) for c in communities))


class StrangeVk(gwtest.TempDirCase):
    def start(self, communities, quirks):
        """The basic scenario with quirks switched on in the scenario file itself."""
        with open(os.path.join(gwtest.SCENARIOS, "basic.json"), encoding="utf-8") as f:
            scenario = json.load(f)
        scenario["quirks"] = quirks
        path = os.path.join(self.dir, "strange.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(scenario, f, ensure_ascii=False)
        self.emu = gwtest.Emulator(self.dir, scenario=path)
        self.config = gwtest.write_config(self.dir, self.emu, watch(communities))

    def once(self, *args, check=0):
        p = gwtest.govwatchd("once", *args, config=self.config, check=check)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def quirks(self, **kw):
        return self.emu.control("quirks", kw)

    def status(self):
        return gwtest.govwatchd("status", config=self.config, check=0).stdout

    def api(self, method, **params):
        """The emulator's answer as the daemon gets it."""
        params.setdefault("v", "5.199")
        req = urllib.request.Request(
            self.emu.api_url + "/" + method, data=urllib.parse.urlencode(params).encode(),
            headers={"Authorization": "Bearer " + self.emu.token})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode())

    def executes(self, since):
        return [e for e in self.emu.log()[since:] if e["method"] == "execute"]

    # -- a. execute_errors closed by an entry of execute's own ----------------------------------
    def test_execute_errors_tail_does_not_shift_the_errors(self):
        # failures in the middle of the batch: 0 ok, 1 fails (15), 2 ok, 3 fails (18)
        self.start([-100001, -100004, -100003, -100005], {"execute_errors_tail": "last"})
        p = self.once()  # first sight
        self.assertRegex(p.stderr, r"\(-100004\) is not readable: VK error 15")
        self.assertRegex(p.stderr, r"\(-100005\) is not readable: VK error 18")
        for tail in ("last", 13, 10, 29):
            with self.subTest(tail=tail):
                self.quirks(execute_errors_tail=tail)
                a = self.emu.add_post(-100001, "Отключение воды завтра с 9:00 до 17:00")
                b = self.emu.add_post(-100003, "Новое расписание автобусов")
                before = len(self.emu.log())
                p = self.once()
                self.assertEqual(urls(p.stdout), sorted([
                    "https://vk.com/wall-100001_%d" % a, "https://vk.com/wall-100003_%d" % b]),
                    p.stdout + p.stderr)
                # the tail is nobody's error: no retry, no daily-limit pause, one request
                sent = self.executes(before)
                self.assertEqual(len(sent), 1, p.stderr)
                errors = [c["error_code"] for c in sent[0]["inner"]]
                self.assertEqual(errors, [None, 15, None, 18])
                self.assertNotIn("retrying", p.stderr)
                self.assertNotIn("limit", p.stderr.lower())
                self.assertNotRegex(p.stderr, r"-10000[13]\b")
                # each failure is recorded on its own community
                st = self.status()
                self.assertRegex(st, r"-100004 .*VK error 15")
                self.assertRegex(st, r"-100005 .*VK error 18")
                self.assertNotRegex(st, r"-10000[13] .*VK error")

    def test_execute_null_response_when_every_call_failed(self):
        # vk-fixtures/execute-response-null-with-execute_errors.json: "response": null, one entry
        # per failed call, then execute's own
        self.start([-100004, -100005, -100001],
                   {"execute_errors_tail": 13, "execute_all_failed": "null"})
        self.emu.control("community_error", {"owner_id": -100001, "error_code": 30})
        before = len(self.emu.log())
        p = self.once()
        sent = self.executes(before)
        self.assertEqual(len(sent), 1, p.stderr)
        self.assertRegex(p.stderr, r"\(-100004\) is not readable: VK error 15")
        self.assertRegex(p.stderr, r"\(-100005\) is not readable: VK error 18")
        self.assertRegex(p.stderr, r"\(-100001\) is not readable: VK error 30")
        self.assertNotIn("retrying", p.stderr)
        # the wall comes back: its posts are first seen, then new ones come as usual
        self.emu.control("community_error", {"owner_id": -100001, "error_code": None})
        self.once()
        a = self.emu.add_post(-100001, "Отключение света в среду")
        p = self.once()
        self.assertEqual(urls(p.stdout), ["https://vk.com/wall-100001_%d" % a], p.stderr)

    # -- b. a mistyped community id ------------------------------------------------------------
    def test_mistyped_community_is_reported_and_the_others_polled(self):
        for mode in ("deleted", "omit"):
            with self.subTest(missing_group=mode):
                if self.emu:
                    self.emu.stop()
                    self.tmp.__exit__(None, None, None)
                    self.dir = self.tmp.__enter__()
                self.start([-100001, "club987654", -987655, -100003],
                           {"missing_wall_error": 15, "missing_group": mode})
                # VK's own answers, as the daemon meets them
                err = self.api("wall.get", owner_id=-987600)["error"]
                self.assertEqual((err["error_code"], err["error_msg"]),
                                 (15, "Access denied: wall is disabled"))
                self.once()  # first sight of the real ones
                a = self.emu.add_post(-100001, "Отключение воды завтра")
                b = self.emu.add_post(-100003, "Запись к врачу через Госуслуги")
                for args in (("--dry-run",), ()):
                    p = self.once(*args)
                    got = (urls(" ".join(json.loads(line)["url"] for line in p.stdout.splitlines()))
                           if args else urls(p.stdout))
                    self.assertEqual(got, sorted(["https://vk.com/wall-100001_%d" % a,
                                                  "https://vk.com/wall-100003_%d" % b]), p.stderr)
                    # each bad entry is named where the watch list has it, as unknown to VK
                    for raw, ident in (("club987654", 987654), ("-987655", 987655)):
                        self.assertRegex(
                            p.stderr, r"govwatch\.yaml:\d+:\d+: community '%s' \(id %d\) "
                            r"(does not exist|is deleted) on VK" % (re.escape(raw), ident))
                    self.assertNotIn("retrying", p.stderr)
                    self.assertNotIn("DELETED", p.stderr)
                # never polled: VK said it is not there, so no wall.get spends the budget on it
                stats = self.emu.control("stats")
                self.assertNotIn("-987654", stats["wall_get_by_owner"])
                self.assertNotIn("-987655", stats["wall_get_by_owner"])
                self.assertGreaterEqual(stats["wall_get_by_owner"]["-100001"], 3)
                # and its made-up title is not cached as if it were a community's
                self.assertNotIn("DELETED", self.status())

    # -- c. live broadcasts flagged in VK's other ways -----------------------------------------
    def live_video(self, vid, start, **flags):
        return {"type": "video", "video": {
            "id": vid, "owner_id": -100001, "title": "Встреча с жителями", "duration": 0,
            "date": int(time.time()), "views": 0, "comments": 0, "live_start_time": start,
            "can_add": 1, **flags}}

    def test_live_flags_in_every_combination_are_a_broadcast_with_its_start(self):
        self.start([-100001], {})
        self.once()
        start = (int(time.time()) // 60 + 180) * 60  # in three hours, on the minute
        cases = {
            "type live + upcoming, no live: 1": dict(type="live", upcoming=1),
            "live: 1, type video, no upcoming": dict(type="video", live=1),
            "upcoming alone": dict(type="video", upcoming=1),
        }
        posts = {}
        for n, (name, flags) in enumerate(cases.items()):
            posts[self.emu.add_post(-100001, "Встреча с жителями района",
                                    attachments=[self.live_video(456239900 + n, start, **flags)])
                  ] = name
        # the control: the same words with an ordinary recorded video are no broadcast
        plain = self.emu.add_post(-100001, "Встреча с жителями района", attachments=[
            {"type": "video", "video": {"id": 456239999, "owner_id": -100001, "type": "video",
                                        "title": "Встреча с жителями", "duration": 1800}}])
        p = self.once("--dry-run")
        lines = {n["id"]: n for n in map(json.loads, p.stdout.splitlines())}
        for pid, name in posts.items():
            with self.subTest(case=name):
                self.assertIn(pid, lines, p.stdout + p.stderr)
                self.assertIn("live", lines[pid]["categories"])
                self.assertEqual(
                    datetime.datetime.fromisoformat(lines[pid]["starts_at"]).timestamp(), start)
        self.assertNotIn("live", lines.get(plain, {}).get("categories", []), p.stdout)

    def test_live_video_switch_reshapes_the_same_post(self):
        self.start([-100001], {})
        self.once()
        start = (int(time.time()) // 60 + 120) * 60
        pid = self.emu.add_post(-100001, "Встреча с жителями района", attachments=[
            self.live_video(456239950, start, type="live", live=1, upcoming=1)])
        for mode, want in (("type_only", {"type": "live", "upcoming": 1}),
                           ("flag_only", {"type": "video", "live": 1, "upcoming": 1}),
                           ("upcoming_only", {"type": "video", "upcoming": 1})):
            with self.subTest(live_video=mode):
                self.quirks(live_video=mode)
                items = self.api("wall.get", owner_id=-100001, count=5)["response"]["items"]
                video = [i for i in items if i["id"] == pid][0]["attachments"][0]["video"]
                self.assertEqual({k: video.get(k) for k in ("type", "live", "upcoming")},
                                 {"type": want["type"], "live": want.get("live"),
                                  "upcoming": want.get("upcoming")})
                p = self.once("--dry-run")
                lines = [json.loads(line) for line in p.stdout.splitlines()]
                self.assertEqual([n["id"] for n in lines], [pid], p.stdout + p.stderr)
                self.assertIn("live", lines[0]["categories"])
                self.assertEqual(
                    datetime.datetime.fromisoformat(lines[0]["starts_at"]).timestamp(), start)
        # delivered for real once, with its start time in the text
        p = self.once()
        self.assertEqual(urls(p.stdout), ["https://vk.com/wall-100001_%d" % pid])

    # -- d. the fields real posts carry --------------------------------------------------------
    def test_fields_the_daemon_ignores_change_nothing(self):
        self.start([-100001, -100002, -100003, 5000001], {"post_extras": True})
        item = self.api("wall.get", owner_id=-100002, count=1)["response"]["items"][0]
        for key in ("has_tags", "inner_type", "web_view_token", "is_favorite", "donut",
                    "short_text_rate", "hash", "carousel_offset", "post_source", "comments",
                    "likes", "reposts", "views"):
            self.assertIn(key, item)
        with_extras = self.once("--dry-run", "--all")
        self.quirks(post_extras=False)
        item = self.api("wall.get", owner_id=-100002, count=1)["response"]["items"][0]
        self.assertNotIn("web_view_token", item)
        without = self.once("--dry-run", "--all")
        self.assertGreaterEqual(len(with_extras.stdout.splitlines()), 5, with_extras.stderr)
        self.assertEqual(with_extras.stdout, without.stdout)
        # and a real run with them on sees new posts exactly once
        self.quirks(post_extras=True)
        self.once()
        a = self.emu.add_post(-100002, "Родительское собрание переносится на четверг",
                              has_tags=True, zoom_text=True, is_favorite=True)
        p = self.once()
        self.assertEqual(urls(p.stdout), ["https://vk.com/wall-100002_%d" % a], p.stderr)
        self.assertEqual(urls(self.once().stdout), [])


if __name__ == "__main__":
    unittest.main()


    # -- e. a post too large for one step of the event loop ----------------------------------
    # An answer holding a piece over VK_PIECE_MAX (vk.h: 256 KiB, one post) is not retried as it
    # was: the batch is asked for again in halves, and only the wall that makes it too large
    # waits. test_vk_errors has the same for an answer over VK_ANSWER_MAX_BYTES.
    def test_one_oversized_post_costs_only_its_own_wall(self):
        walls = [-100001, -100002, -100003]
        self.start(walls, {})
        self.once()  # first sight
        news = {w: self.emu.add_post(w, "Отключение воды завтра с 9:00 до 17:00") for w in walls}
        huge = self.emu.add_post(-100002, "x" * (600 * 1024))  # one post over 256 KiB
        before = len(self.emu.log())
        p = self.once()
        self.assertEqual(urls(p.stdout), sorted(
            "https://vk.com/wall%d_%d" % (w, news[w]) for w in walls if w != -100002),
            p.stdout + p.stderr)
        self.assertRegex(p.stderr, r"\(-100002\) cannot be read \(answer holds a post, a string "
                         r"or another value over 256 KiB\); it waits for the next sweep")
        self.assertNotIn("retrying", p.stderr)
        self.assertNotIn("failed 4 times", p.stderr)
        # 3 walls, then 1 + 2, then the pair as 1 + 1: five requests, not four retries
        sent = self.executes(before)
        self.assertEqual(sorted(len(e["inner"]) for e in sent), [1, 1, 1, 2, 3], p.stderr)
        # the wall is read again once the post is gone; nothing of it was recorded meanwhile
        self.emu.control("delete_post", {"owner_id": -100002, "id": huge})
        p = self.once()
        self.assertEqual(urls(p.stdout), ["https://vk.com/wall-100002_%d" % news[-100002]],
                         p.stdout + p.stderr)
