"""Self-test of the VK API emulator (tests/vkemu/vkemu.py).

Run from the repository root:  /usr/bin/python3 -m unittest tests/vkemu/test_vkemu.py

Each test starts nothing but talks over loopback HTTP to an emulator running in
a subprocess, exactly as govwatchd will; a failure means the daemon's tests
would be judged against a VK that does not behave like the real one.
"""

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
VKEMU = os.path.join(HERE, "vkemu.py")
BASIC = os.path.join(HERE, "scenarios", "basic.json")
DEMO = os.path.join(HERE, "scenarios", "demo-seversky.json")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
TOKEN = "test-token-123"


class Emulator:
    """One vkemu subprocess on an ephemeral port."""

    def __init__(self, scenario=BASIC, args=()):
        self.tmp = tempfile.TemporaryDirectory(prefix="vkemu-test-")
        self.port_file = os.path.join(self.tmp.name, "port")
        self.log_path = os.path.join(self.tmp.name, "requests.jsonl")
        self.stderr = open(os.path.join(self.tmp.name, "stderr"), "w+")
        self.proc = subprocess.Popen(
            [PYTHON, VKEMU, "--scenario", scenario, "--port", "0", "--port-file",
             self.port_file, "--log", self.log_path, *args],
            stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.time() + 10
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("vkemu did not start: " + self.read_stderr())
            time.sleep(0.02)
        with open(self.port_file) as f:
            text = f.read()
        assert text.endswith("\n") and text.strip().isdigit(), repr(text)
        self.base = "http://127.0.0.1:%d" % int(text)

    def read_stderr(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        self.tmp.cleanup()
        return self.proc.returncode

    def request(self, path, data=None, headers=None, method=None, timeout=5):
        """(status, headers, raw body) without raising on HTTP errors."""
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {},
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def raw_api(self, method, params, token=TOKEN, http="POST", headers=None):
        params = dict(params)
        params.setdefault("v", "5.199")
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        encoded = urllib.parse.urlencode(params)
        if http == "GET":
            return self.request("/method/%s?%s" % (method, encoded), headers=headers)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.request("/method/" + method, encoded.encode(), headers)

    def api(self, method, params=None, **kw):
        status, headers, raw = self.raw_api(method, params or {}, **kw)
        assert status == 200, (status, raw[:200])
        assert headers["Content-Type"] == "application/json; charset=utf-8", headers
        return json.loads(raw)

    def control(self, name, body=None, expect=200):
        status, _, raw = self.request("/_control/" + name,
                                      json.dumps(body or {}).encode(),
                                      {"Content-Type": "application/json"})
        assert status == expect, (name, status, raw)
        return json.loads(raw)


def execute_code(*calls):
    return "return [%s];" % ", ".join(calls)


class BasicScenarioTest(unittest.TestCase):
    """Read-only behaviour against basic.json; limits and faults reset per test."""

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(args=["--token", TOKEN, "--quiet"])

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.emu.control("clear_faults")
        self.emu.control("set_limits", {"rps": 0, "rps_mode": "window", "daily_wall_get": 0})
        self.emu.control("reset_counters")

    def error(self, answer):
        self.assertIn("error", answer, answer)
        return answer["error"]

    # -- auth and envelope ------------------------------------------------------
    def test_missing_token_is_error_5_without_echoing_any_token(self):
        err = self.error(self.emu.api("wall.get", {"owner_id": -100001}, token=None))
        self.assertEqual(err["error_code"], 5)
        params = {p["key"]: p["value"] for p in err["request_params"]}
        self.assertEqual(params["oauth"], "1")
        self.assertEqual(params["method"], "wall.get")
        self.assertEqual(params["v"], "5.199")
        self.assertNotIn("access_token", params)

    def test_wrong_token_is_error_5(self):
        err = self.error(self.emu.api("wall.get", {"owner_id": -100001}, token="nope"))
        self.assertEqual(err["error_code"], 5)
        self.assertEqual(err["error_msg"], "User authorization failed: invalid access_token (4).")
        status, _, raw = self.emu.raw_api("wall.get", {"owner_id": -100001}, token=None,
                                          headers={"Authorization": "OAuth " + TOKEN})
        self.assertEqual(json.loads(raw)["error"]["error_code"], 5)
        self.assertNotIn(TOKEN.encode(), raw)

    def test_access_token_parameter_is_refused_and_logged_redacted(self):
        before = len(self.emu.control("log"))
        answer = self.emu.api("wall.get", {"owner_id": -100001, "access_token": TOKEN},
                              token=None, http="GET")
        self.assertEqual(self.error(answer)["error_code"], 5)
        self.assertNotIn(TOKEN, json.dumps(answer))
        rec = self.emu.control("log")[before]
        self.assertTrue(rec["access_token_in_params"])
        self.assertTrue(rec["body_contains_token"])
        self.assertEqual(rec["params"]["access_token"], "<redacted>")
        self.assertEqual(rec["auth"], "none")
        self.assertFalse(rec["token_ok"])
        self.assertNotIn(TOKEN, rec["query"])

    def test_v_is_required(self):
        status, _, raw = self.emu.request(
            "/method/wall.get?owner_id=-100001", headers={"Authorization": "Bearer " + TOKEN})
        err = json.loads(raw)["error"]
        self.assertEqual((err["error_code"], err["error_msg"]),
                         (8, "Invalid request: v is required"))

    def test_unknown_method_is_error_3(self):
        self.assertEqual(self.error(self.emu.api("wall.post"))["error_code"], 3)

    def test_get_and_post_give_the_same_answer(self):
        a = self.emu.api("wall.get", {"owner_id": -100002}, http="GET")
        b = self.emu.api("wall.get", {"owner_id": -100002}, http="POST")
        self.assertEqual(a, b)

    def test_slashes_are_escaped_like_vk(self):
        _, _, raw = self.emu.raw_api("groups.getById", {"group_ids": "test_admin"})
        self.assertIn(b"https:\\/\\/vk.com\\/images\\/community_50.png", raw)

    # -- wall.get ---------------------------------------------------------------
    def test_wall_get_puts_the_old_pinned_post_first(self):
        r = self.emu.api("wall.get", {"owner_id": -100001})["response"]
        self.assertEqual(r["count"], 3)
        self.assertEqual([p["id"] for p in r["items"]], [1, 3, 2])
        self.assertEqual(r["items"][0]["is_pinned"], 1)
        self.assertTrue(all("is_pinned" not in p for p in r["items"][1:]))
        for post in r["items"]:
            self.assertEqual((post["owner_id"], post["from_id"]), (-100001, -100001))
            self.assertEqual(post["post_type"], "post")
            self.assertIn("count", post["likes"])
            self.assertIn("count", post["views"])
        repost = r["items"][2]
        self.assertEqual(repost["text"], "")
        self.assertEqual(repost["copy_history"][0]["owner_id"], -100003)
        video = r["items"][1]["attachments"][0]["video"]
        self.assertEqual((video["upcoming"], video["live_start_time"]), (1, 1717513200))

    def test_wall_get_extended_names_the_owners_of_reposts(self):
        r = self.emu.api("wall.get", {"owner_id": -100001, "extended": 1})["response"]
        self.assertEqual(sorted(g["id"] for g in r["groups"]), [100001, 100003])
        clinic = [g for g in r["groups"] if g["id"] == 100003][0]
        self.assertEqual(clinic["name"], "ГБУЗ «Тестовая ЦРБ»")
        self.assertEqual(clinic["screen_name"], "test_clinic")
        self.assertEqual(r["profiles"], [])
        # an original from a community the scenario does not know stays unnamed, as the
        # client must bear; without extended the answer has neither key
        r = self.emu.api("wall.get", {"owner_id": -100002, "extended": "1"})["response"]
        self.assertEqual([g["id"] for g in r["groups"]], [100002])
        r = self.emu.api("wall.get", {"owner_id": -100001})["response"]
        self.assertNotIn("groups", r)
        self.assertNotIn("profiles", r)

    def test_wall_get_offset_and_count_slice_the_pinned_first_list(self):
        r = self.emu.api("wall.get", {"owner_id": -100001, "offset": 1, "count": 1})
        self.assertEqual([p["id"] for p in r["response"]["items"]], [3])
        self.assertEqual(r["response"]["count"], 3)
        r = self.emu.api("wall.get", {"owner_id": -100001, "count": 0})
        self.assertEqual(r["response"]["items"], [])
        err = self.error(self.emu.api("wall.get", {"owner_id": -100001, "count": 101}))
        self.assertEqual(err["error_code"], 100)

    def test_wall_get_errors_of_communities(self):
        err = self.error(self.emu.api("wall.get", {"owner_id": -100004}))
        self.assertEqual(err["error_code"], 15)
        self.assertEqual(err["error_msg"],
                         "Access denied: this wall available only for community members")
        self.assertEqual(self.error(self.emu.api("wall.get", {"owner_id": -100005}))
                         ["error_code"], 18)
        self.assertEqual(self.error(self.emu.api("wall.get", {"owner_id": -999}))
                         ["error_code"], 100)
        self.assertEqual(self.error(self.emu.api("wall.get", {"owner_id": "abc"}))
                         ["error_code"], 100)

    def test_wall_get_of_a_user_and_by_domain(self):
        r = self.emu.api("wall.get", {"owner_id": 5000001})["response"]
        self.assertEqual([p["id"] for p in r["items"]], [2, 1])
        self.assertEqual(r["items"][0]["owner_id"], 5000001)
        self.assertEqual(r["items"][0]["attachments"][0]["video"]["live"], 1)
        r = self.emu.api("wall.get", {"domain": "test_school"})["response"]
        self.assertEqual(r["items"][0]["owner_id"], -100002)

    # -- execute ----------------------------------------------------------------
    def test_execute_mixes_results_and_failures_in_order(self):
        code = execute_code('API.wall.get({owner_id: -100001, count: 2})',
                            'API.wall.get({"owner_id": -100004, "count": 2})',
                            "API.wall.get({'owner_id': '-100002', filter: 'owner'})",
                            'API.wall.get({owner_id:-100005})')
        r = self.emu.api("execute", {"code": code})
        self.assertEqual(len(r["response"]), 4)
        self.assertEqual([p["id"] for p in r["response"][0]["items"]], [1, 3])
        self.assertIs(r["response"][1], False)
        self.assertEqual(r["response"][2]["items"][0]["owner_id"], -100002)
        self.assertIs(r["response"][3], False)
        self.assertEqual([(e["method"], e["error_code"]) for e in r["execute_errors"]],
                         [("wall.get", 15), ("wall.get", 18)])
        stats = self.emu.control("stats")
        self.assertEqual(stats["wall_get_calls"], 4)

    def test_execute_without_failures_has_no_execute_errors(self):
        r = self.emu.api("execute", {"code": execute_code("API.wall.get({owner_id:-100003})")})
        self.assertNotIn("execute_errors", r)

    def test_execute_with_26_calls_is_error_13_and_25_is_fine(self):
        calls = ["API.wall.get({owner_id:-100001,count:1})"] * 25
        self.assertEqual(len(self.emu.api("execute", {"code": execute_code(*calls)})
                             ["response"]), 25)
        err = self.error(self.emu.api("execute", {"code": execute_code(*calls, calls[0])}))
        self.assertEqual(err["error_code"], 13)
        self.assertEqual(err["error_msg"],
                         "Runtime error occurred during code invocation: Too many API calls")

    def test_execute_shapes(self):
        self.assertEqual(self.emu.api("execute", {"code": "return 1;"}), {"response": None})
        single = self.emu.api("execute",
                              {"code": "return API.utils.resolveScreenName({screen_name:'test_admin'});"})
        self.assertEqual(single["response"], {"object_id": 100001, "type": "group"})
        r = self.emu.api("execute", {"code": execute_code(
            'API.groups.getById({group_ids: "test_clinic,club100002"})',
            'API.utils.resolveScreenName({screen_name: "test_official"})')})
        self.assertEqual([g["id"] for g in r["response"][0]["groups"]], [100003, 100002])
        self.assertEqual(r["response"][1]["type"], "user")

    def test_execute_ignores_calls_inside_strings_and_comments(self):
        code = ('var s = "API.wall.get({owner_id:-100004})"; // API.wall.get({owner_id:1})\n'
                '/* API.wall.get({owner_id:2}) */ return [API.wall.get({owner_id:-100002})];')
        r = self.emu.api("execute", {"code": code})
        self.assertEqual(len(r["response"]), 1)
        self.assertNotIn("execute_errors", r)

    def test_execute_refuses_what_it_cannot_evaluate(self):
        code = "var i = 0; var r = []; while (i < 3) { r.push(API.wall.get({owner_id: ids[i]})); }"
        self.assertEqual(self.error(self.emu.api("execute", {"code": code}))["error_code"], 12)

    # -- groups.getById / utils.resolveScreenName -----------------------------------
    def test_groups_get_by_id(self):
        r = self.emu.api("groups.getById", {"group_ids": "test_school,club100003,nope,public100001",
                                            "fields": "members_count"})["response"]
        self.assertEqual([g["id"] for g in r["groups"]], [100002, 100003, 100001])
        self.assertEqual(r["profiles"], [])
        g = r["groups"][0]
        for key in ("name", "screen_name", "is_closed", "type", "photo_50", "photo_100",
                    "photo_200"):
            self.assertIn(key, g)
        self.assertEqual(r["groups"][2]["members_count"], 15230)
        r = self.emu.api("groups.getById", {"group_id": "100005"})["response"]
        self.assertEqual(r["groups"][0]["deactivated"], "banned")
        err = self.error(self.emu.api("groups.getById", {"group_ids": "nope,club1"}))
        self.assertEqual(err["error_code"], 100)
        many = ",".join(str(100000 + i) for i in range(501))
        self.assertEqual(self.error(self.emu.api("groups.getById", {"group_ids": many}))
                         ["error_code"], 100)

    def test_resolve_screen_name(self):
        self.assertEqual(self.emu.api("utils.resolveScreenName", {"screen_name": "test_official"})
                         ["response"], {"object_id": 5000001, "type": "user"})
        self.assertEqual(self.emu.api("utils.resolveScreenName", {"screen_name": "test_clinic"})
                         ["response"], {"object_id": 100003, "type": "group"})
        self.assertEqual(self.emu.api("utils.resolveScreenName", {"screen_name": "nobody_here"}),
                         {"response": []})

    def test_users_get(self):
        # the shape of users.get 5.199: a bare array, in request order, unknown ids left out
        r = self.emu.api("users.get", {"user_ids": "test_banned_official,5000001,99999999,"
                                                   "id5000002"})
        self.assertEqual(r["response"], [
            {"id": 5000003, "first_name": "Заблокированный", "last_name": "Чиновник",
             "deactivated": "banned"},
            {"id": 5000001, "first_name": "Тестовый", "last_name": "Чиновник",
             "can_access_closed": True, "is_closed": False},
            {"id": 5000002, "first_name": "DELETED", "last_name": "", "deactivated": "deleted"},
        ])
        self.assertEqual(self.emu.api("users.get", {"user_id": "5000001"})["response"][0]["id"],
                         5000001)
        # a deactivated page's wall answers 18, as VK's does
        self.assertEqual(self.error(self.emu.api("wall.get", {"owner_id": 5000002}))
                         ["error_code"], 18)
        # an id list VK cannot read is refused whole
        for bad in ("-5000001", "5000001,abc!", "0", "5000001;5000002", "test_admin",
                    "nobody_here", "id 5000001"):
            err = self.error(self.emu.api("users.get", {"user_ids": bad}))
            self.assertEqual((bad, err["error_code"], err["error_msg"]),
                             (bad, 113, "Invalid user id"))
        too_many = ",".join(str(5000000 + i) for i in range(1001))
        self.assertEqual(self.error(self.emu.api("users.get", {"user_ids": too_many}))
                         ["error_code"], 100)
        self.assertEqual(len(self.emu.api("users.get", {"user_ids": too_many[:-8]})
                             ["response"]), 3)
        # inside execute as well
        r = self.emu.api("execute", {"code": execute_code(
            "API.users.get({user_ids:\"5000001\"})", "API.users.get({user_ids:\"x!\"})")})
        self.assertEqual(r["response"][0][0]["first_name"], "Тестовый")
        self.assertIs(r["response"][1], False)
        self.assertEqual(r["execute_errors"][0]["error_code"], 113)

    # -- limits -----------------------------------------------------------------
    def test_requests_per_second_limit(self):
        self.emu.control("set_limits", {"rps": 2})
        codes = [self.emu.api("utils.resolveScreenName", {"screen_name": "test_admin"})
                 .get("error", {}).get("error_code") for _ in range(3)]
        self.assertEqual(codes, [None, None, 6])
        time.sleep(1.05)  # the window slides: one second later it is open again
        self.assertIn("response", self.emu.api("utils.resolveScreenName",
                                               {"screen_name": "test_admin"}))

    def test_rps_window_is_strict_where_a_bucket_is_lenient(self):
        # VK says "2 requests per second": a third within one second of the first is refused,
        # even though a bucket refilled at 2/s would have a token again after half a second
        def resolve():
            return self.emu.api("utils.resolveScreenName", {"screen_name": "test_admin"}) \
                .get("error", {}).get("error_code")
        self.assertEqual(self.emu.control("set_limits", {"rps": 2})["rps_mode"], "window")
        first = time.time()
        self.assertEqual([resolve(), resolve()], [None, None])
        time.sleep(0.5)
        self.assertEqual(resolve(), 6)
        time.sleep(max(0.0, first + 1.05 - time.time()))
        self.assertIsNone(resolve())
        # the same pattern in bucket mode: admitted after half a second
        self.emu.control("set_limits", {"rps_mode": "bucket"})
        self.assertEqual([resolve(), resolve()], [None, None])
        time.sleep(0.6)
        self.assertIsNone(resolve())
        self.assertEqual(self.emu.control("stats")["limits"]["rps_mode"], "bucket")
        self.emu.control("set_limits", {"rps_mode": "sliding"}, expect=400)

    def test_log_time_is_the_arrival_not_when_the_emulator_got_to_it(self):
        # a loaded machine may run the emulator late; pacing is judged by when requests arrived
        self.emu.control("clear_log")
        result = {}
        os.kill(self.emu.proc.pid, signal.SIGSTOP)
        try:
            sent = time.time()
            thread = threading.Thread(target=lambda: result.update(
                answer=self.emu.api("utils.resolveScreenName", {"screen_name": "test_admin"})))
            thread.start()
            time.sleep(0.6)
        finally:
            os.kill(self.emu.proc.pid, signal.SIGCONT)
        thread.join(10)
        self.assertIn("response", result.get("answer", {}))
        (entry,) = self.emu.control("log")
        self.assertLess(entry["t"] - sent, 0.3, "stamped when handled, not when it arrived")
        self.assertGreaterEqual(entry["t"], sent - 0.01)

    def test_daily_wall_get_budget_counts_inner_calls(self):
        self.emu.control("set_limits", {"daily_wall_get": 3})
        code = execute_code(*["API.wall.get({owner_id:-100001,count:1})"] * 5)
        r = self.emu.api("execute", {"code": code})
        self.assertEqual([isinstance(x, dict) for x in r["response"]],
                         [True, True, True, False, False])
        self.assertEqual([e["error_code"] for e in r["execute_errors"]], [29, 29])
        err = self.error(self.emu.api("wall.get", {"owner_id": -100001}))
        self.assertEqual((err["error_code"], err["error_msg"]), (29, "Rate limit reached"))
        self.assertEqual(self.emu.control("stats")["wall_get_calls"], 3)
        # groups.getById does not spend the wall.get budget
        self.assertIn("response", self.emu.api("groups.getById", {"group_ids": "test_admin"}))
        self.emu.control("reset_counters")
        self.assertIn("response", self.emu.api("wall.get", {"owner_id": -100001}))

    # -- faults -----------------------------------------------------------------
    def test_fault_http500_then_recovery(self):
        self.emu.control("fault", {"kind": "http500"})
        status, headers, raw = self.emu.raw_api("wall.get", {"owner_id": -100001})
        self.assertEqual(status, 500)
        self.assertIn(b"500 Internal Server Error", raw)
        self.assertIn("response", self.emu.api("wall.get", {"owner_id": -100001}))

    def test_fault_truncated_is_a_cut_valid_answer(self):
        _, _, full = self.emu.raw_api("wall.get", {"owner_id": -100002})
        self.emu.control("fault", {"kind": "truncated"})
        status, _, cut = self.emu.raw_api("wall.get", {"owner_id": -100002})
        self.assertEqual(status, 200)
        self.assertTrue(0 < len(cut) < len(full) and full.startswith(cut))
        with self.assertRaises(ValueError):
            json.loads(cut)

    def test_fault_disconnect_breaks_the_transfer(self):
        self.emu.control("fault", {"kind": "disconnect"})
        with self.assertRaises(http.client.IncompleteRead):
            self.emu.raw_api("wall.get", {"owner_id": -100002})

    def test_fault_malformed_is_not_json(self):
        self.emu.control("fault", {"kind": "malformed"})
        status, headers, raw = self.emu.raw_api("wall.get", {"owner_id": -100002})
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        with self.assertRaises(ValueError):
            json.loads(raw)

    def test_fault_delay(self):
        self.emu.control("fault", {"kind": "delay", "delay": 0.4})
        start = time.monotonic()
        self.assertIn("response", self.emu.api("wall.get", {"owner_id": -100002}))
        self.assertGreaterEqual(time.monotonic() - start, 0.4)

    def test_fault_vk_error_with_method_filter_and_count(self):
        self.emu.control("fault", {"kind": "vk_error", "error_code": 9, "method": "execute",
                                   "count": 2})
        self.assertIn("response", self.emu.api("wall.get", {"owner_id": -100002}))
        for _ in range(2):
            err = self.error(self.emu.api("execute", {"code": "return 1;"}))
            self.assertEqual((err["error_code"], err["error_msg"]), (9, "Flood control"))
        self.assertIn("response", self.emu.api("execute", {"code": "return 1;"}))

    def test_fault_inner_call(self):
        self.emu.control("fault", {"kind": "vk_error", "error_code": 10, "scope": "inner"})
        r = self.emu.api("execute", {"code": execute_code(
            "API.wall.get({owner_id:-100001})", "API.wall.get({owner_id:-100002})")})
        self.assertIs(r["response"][0], False)
        self.assertIsInstance(r["response"][1], dict)
        self.assertEqual(r["execute_errors"][0]["error_code"], 10)

    def test_fault_bom(self):
        self.emu.control("fault", {"kind": "bom"})
        _, _, raw = self.emu.raw_api("wall.get", {"owner_id": -100002})
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"))
        json.loads(raw.decode("utf-8-sig"))

    def test_bad_control_requests_are_refused(self):
        self.emu.control("fault", {"kind": "explode"}, expect=400)
        self.emu.control("add_post", {"owner_id": -424242, "post": {}}, expect=400)
        self.emu.control("no_such_thing", expect=400)

    # -- log --------------------------------------------------------------------
    def test_log_records_requests_and_never_the_token(self):
        self.emu.control("clear_log")
        self.emu.api("execute", {"code": execute_code("API.wall.get({owner_id:-100001})",
                                                      "API.wall.get({owner_id:-100004})")})
        # A careless client could paste the token into the code: flagged, not logged.
        self.emu.api("execute", {"code": "return '%s';" % TOKEN})
        log = self.emu.control("log")
        self.assertEqual(len(log), 2)
        first = log[0]
        for key in ("t", "method", "http_method", "path", "query", "params", "v", "auth",
                    "token_ok", "body_contains_token", "inner_calls", "status", "error_code",
                    "access_token_in_params"):
            self.assertIn(key, first)
        self.assertEqual((first["method"], first["http_method"], first["path"]),
                         ("execute", "POST", "/method/execute"))
        self.assertEqual((first["auth"], first["token_ok"], first["v"]), ("bearer", True, "5.199"))
        self.assertEqual(first["inner_calls"], 2)
        self.assertEqual([c["error_code"] for c in first["inner"]], [None, 15])
        self.assertEqual([c["params"]["owner_id"] for c in first["inner"]], ["-100001", "-100004"])
        self.assertFalse(first["body_contains_token"])
        self.assertIsNone(first["error_code"])
        self.assertTrue(log[1]["body_contains_token"])
        self.emu.api("wall.get", {"owner_id": -100001}, token=None)
        self.assertEqual(self.emu.control("log")[-1]["error_code"], 5)
        with open(self.emu.log_path, encoding="utf-8") as f:
            text = f.read()
        self.assertNotIn(TOKEN, text)
        lines = [json.loads(line) for line in text.splitlines()]
        self.assertGreaterEqual(len(lines), 3)
        self.assertTrue(all("/_control/" not in rec["path"] for rec in lines))
        stats = self.emu.control("stats")
        self.assertGreaterEqual(stats["requests"], 3)
        self.assertGreaterEqual(stats["per_method"]["execute"], 2)


class MutationTest(unittest.TestCase):
    """Control endpoints that change walls; each test gets a fresh emulator."""

    def setUp(self):
        self.emu = Emulator(args=["--token", TOKEN, "--quiet"])

    def tearDown(self):
        self.emu.stop()

    def ids(self, owner_id):
        r = self.emu.api("wall.get", {"owner_id": owner_id})
        return [p["id"] for p in r["response"]["items"]]

    def test_add_post_gets_the_next_id_and_now_as_date(self):
        before = int(time.time())
        added = self.emu.control("add_post", {"owner_id": -100001, "post": {"text": "Новое"}})
        self.assertEqual(added["id"], 4)
        self.assertGreaterEqual(added["date"], before)
        self.assertEqual(self.ids(-100001), [1, 4, 3, 2])

    def test_add_pinned_post_unpins_the_old_one(self):
        self.emu.control("add_post", {"owner_id": -100002,
                                      "post": {"text": "Закреп", "is_pinned": 1,
                                               "date_offset": -3600}})
        items = self.emu.api("wall.get", {"owner_id": -100002})["response"]["items"]
        self.assertEqual([p["id"] for p in items], [13, 12, 11, 10])
        self.assertEqual([p.get("is_pinned") for p in items], [1, None, None, None])

    def test_64_bit_ids_survive(self):
        big = 2 ** 40 + 5
        self.emu.control("add_post", {"owner_id": 5000001, "post": {"id": big, "text": "x"}})
        self.assertEqual(self.emu.control("add_post", {"owner_id": 5000001,
                                                       "post": {"text": "y"}})["id"], big + 1)
        _, _, raw = self.emu.raw_api("wall.get", {"owner_id": 5000001})
        self.assertIn(b'"id":1099511627781,', raw)
        self.assertEqual(self.ids(5000001)[:2], [big + 1, big])

    def test_edit_and_delete(self):
        edited = self.emu.control("edit_post", {"owner_id": -100003, "id": 3, "text": "Изменено"})
        items = self.emu.api("wall.get", {"owner_id": -100003})["response"]["items"]
        post = [p for p in items if p["id"] == 3][0]
        self.assertEqual((post["text"], post["edited"]), ("Изменено", edited["edited"]))
        self.emu.control("delete_post", {"owner_id": -100003, "id": 1})
        self.assertEqual(self.ids(-100003), [3, 2])   # the pinned one is gone
        self.emu.control("delete_post", {"owner_id": -100003, "id": 1}, expect=400)
        # ids are never reused
        self.emu.control("delete_post", {"owner_id": -100003, "id": 3})
        self.assertEqual(self.emu.control("add_post", {"owner_id": -100003, "post": {}})["id"], 4)

    def test_community_error_at_runtime(self):
        self.emu.control("community_error", {"owner_id": -100001, "error_code": 203})
        err = self.emu.api("wall.get", {"owner_id": -100001})["error"]
        self.assertEqual(err["error_code"], 203)
        self.emu.control("community_error", {"owner_id": -100001, "error_code": None})
        self.assertIn("response", self.emu.api("wall.get", {"owner_id": -100001}))
        self.emu.control("community_error", {"owner_id": -100004, "error_code": None})
        self.assertIn("response", self.emu.api("wall.get", {"owner_id": -100004}))


class QuirksTest(unittest.TestCase):
    """The switches that make the emulator as strange as VK (README "Quirks"); each test gets
    its own emulator, the quirks coming from the scenario file and /_control/quirks."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="vkemu-quirks-")
        self.emu = None

    def tearDown(self):
        if self.emu:
            self.emu.stop()
        self.tmp.cleanup()

    def start(self, quirks):
        with open(BASIC, encoding="utf-8") as f:
            scenario = json.load(f)
        scenario["quirks"] = quirks
        path = os.path.join(self.tmp.name, "quirks.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(scenario, f)
        self.emu = Emulator(path, args=["--token", TOKEN, "--quiet"])

    def test_defaults_are_the_kind_vk_but_for_the_post_fields(self):
        self.start({})
        q = self.emu.control("quirks")
        self.assertEqual(q, {"execute_errors_tail": None, "execute_all_failed": "falses",
                             "missing_wall_error": 100, "missing_wall_error_msg": None,
                             "missing_group": "omit", "live_video": "as_given",
                             "post_extras": True})
        r = self.emu.api("execute", {"code": execute_code(
            "API.wall.get({owner_id:-100004})", "API.wall.get({owner_id:-100005})")})
        self.assertEqual(r["response"], [False, False])
        self.assertEqual([e["method"] for e in r["execute_errors"]], ["wall.get", "wall.get"])

    def test_execute_errors_tail(self):
        self.start({"execute_errors_tail": "last"})
        code = execute_code("API.wall.get({owner_id:-100004})", "API.wall.get({owner_id:-100001})",
                            "API.wall.get({owner_id:-100005})")
        r = self.emu.api("execute", {"code": code})
        self.assertEqual([x is False for x in r["response"]], [True, False, True])
        self.assertEqual([(e["method"], e["error_code"]) for e in r["execute_errors"]],
                         [("wall.get", 15), ("wall.get", 18), ("execute", 18)])
        self.assertEqual(r["execute_errors"][2]["error_msg"], r["execute_errors"][1]["error_msg"])
        self.emu.control("quirks", {"execute_errors_tail": 13})
        r = self.emu.api("execute", {"code": code})
        self.assertEqual(r["execute_errors"][-1],
                         {"method": "execute", "error_code": 13,
                          "error_msg": "Runtime error occurred during code invocation"})
        # nothing failed: no entries at all, the tail included
        r = self.emu.api("execute", {"code": execute_code("API.wall.get({owner_id:-100001})")})
        self.assertNotIn("execute_errors", r)

    def test_execute_all_failed_null_is_the_recorded_shape(self):
        self.start({"execute_all_failed": "null", "execute_errors_tail": 15})
        r = self.emu.api("execute", {"code": execute_code(
            "API.wall.get({owner_id:-100004})", "API.wall.get({owner_id:-100005})")})
        # the keys of vk-fixtures/execute-response-null-with-execute_errors.json
        self.assertIsNone(r["response"])
        self.assertEqual([e["method"] for e in r["execute_errors"]],
                         ["wall.get", "wall.get", "execute"])
        self.assertEqual(set(r["execute_errors"][2]), {"method", "error_code", "error_msg"})
        # one call succeeding keeps the array
        r = self.emu.api("execute", {"code": execute_code(
            "API.wall.get({owner_id:-100004})", "API.wall.get({owner_id:-100001})")})
        self.assertEqual(r["response"][0], False)
        self.assertEqual(r["response"][1]["count"], 3)

    def test_missing_community(self):
        self.start({"missing_wall_error": 15, "missing_group": "deleted"})
        err = self.emu.api("wall.get", {"owner_id": -987654})["error"]
        self.assertEqual((err["error_code"], err["error_msg"]),
                         (15, "Access denied: wall is disabled"))
        r = self.emu.api("execute", {"code": execute_code("API.wall.get({owner_id:-987654})")})
        self.assertEqual(r["execute_errors"][0]["error_code"], 15)
        groups = self.emu.api("groups.getById",
                              {"group_ids": "987654,club987655,test_admin,nope"})["response"]
        self.assertEqual([(g["id"], g["name"], g.get("deactivated")) for g in groups["groups"]],
                         [(987654, "DELETED", "deleted"), (987655, "DELETED", "deleted"),
                          (100001, "Администрация тестового района", None)])
        self.assertEqual(groups["groups"][0]["screen_name"], "club987654")
        # a screen name VK does not know is still left out, and resolveScreenName says []
        self.assertEqual(self.emu.api("utils.resolveScreenName", {"screen_name": "nope"}),
                         {"response": []})
        self.emu.control("quirks", {"missing_group": "omit", "missing_wall_error": 100})
        self.assertEqual(self.emu.api("groups.getById", {"group_ids": "987654"})
                         ["error"]["error_code"], 100)
        self.assertEqual(self.emu.api("wall.get", {"owner_id": -987654})["error"]["error_code"],
                         100)

    def test_live_video_flags(self):
        self.start({})
        added = self.emu.control("add_post", {"owner_id": -100002, "post": {
            "text": "Эфир", "attachments": [
                {"type": "video", "video": {"id": 7, "owner_id": -100002, "type": "live",
                                            "live": 1, "upcoming": 1, "live_start_time": "+3600"}},
                {"type": "video", "video": {"id": 8, "owner_id": -100002, "type": "video"}}]}})
        want = {"as_given": ("live", 1, 1), "type_only": ("live", None, 1),
                "flag_only": ("video", 1, 1), "upcoming_only": ("video", None, 1)}
        for mode, (vtype, live, upcoming) in want.items():
            with self.subTest(mode=mode):
                self.emu.control("quirks", {"live_video": mode})
                items = self.emu.api("wall.get", {"owner_id": -100002})["response"]["items"]
                post = [p for p in items if p["id"] == added["id"]][0]
                stream, plain = (a["video"] for a in post["attachments"])
                self.assertEqual((stream["type"], stream.get("live"), stream.get("upcoming")),
                                 (vtype, live, upcoming))
                self.assertGreater(stream["live_start_time"], added["date"])
                self.assertEqual(plain, {"id": 8, "owner_id": -100002, "type": "video"})

    def test_post_extras(self):
        self.start({})
        items = self.emu.api("wall.get", {"owner_id": -100002})["response"]["items"]
        for post in items:
            self.assertEqual(post["inner_type"], "wall_wallpost")
            self.assertIs(post["has_tags"], False)
            self.assertIs(post["is_favorite"], False)
            self.assertRegex(post["web_view_token"], r"^[0-9a-f]{18}$")
            self.assertRegex(post["hash"], r"^[0-9a-f]{22}$")
            self.assertEqual((post["short_text_rate"], post["carousel_offset"]), (0.8, 0))
            self.assertIn("is_donut", post["donut"])
            for key in ("post_source", "comments", "likes", "reposts", "views"):
                self.assertIsInstance(post[key], dict)
            for orig in post.get("copy_history", []):
                self.assertEqual(orig["inner_type"], "wall_wallpost")
        # the same on every run, different between posts
        again = self.emu.api("wall.get", {"owner_id": -100002})["response"]["items"]
        self.assertEqual([p["hash"] for p in items], [p["hash"] for p in again])
        self.assertEqual(len({p["web_view_token"] for p in items}), len(items))
        self.emu.control("quirks", {"post_extras": False})
        post = self.emu.api("wall.get", {"owner_id": -100002})["response"]["items"][0]
        for key in ("inner_type", "has_tags", "web_view_token", "hash", "donut"):
            self.assertNotIn(key, post)

    def test_bad_quirks_are_refused(self):
        self.start({})
        for body in ({"nope": 1}, {"execute_errors_tail": "first"}, {"missing_wall_error": 0},
                     {"live_video": "sometimes"}, {"post_extras": 1}):
            with self.subTest(body=body):
                self.assertIn("quirk", self.emu.control("quirks", body, expect=400)["error"])
        path = os.path.join(self.tmp.name, "bad.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"token": "x", "quirks": {"missing_group": "maybe"}}, f)
        proc = subprocess.run([PYTHON, VKEMU, "--scenario", path], capture_output=True,
                              text=True, timeout=10)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("quirk missing_group", proc.stderr)


class LifecycleTest(unittest.TestCase):
    def write(self, tmp, name, obj):
        path = os.path.join(tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False))
        return path

    def test_token_file_and_clean_exit_on_signals(self):
        with tempfile.TemporaryDirectory() as tmp:
            token_file = self.write(tmp, "token", "file-token-456\n")
            for sig in (signal.SIGTERM, signal.SIGINT):
                emu = Emulator(args=["--token-file", token_file, "--quiet"])
                try:
                    self.assertIn("response", emu.api("wall.get", {"owner_id": -100001},
                                                      token="file-token-456"))
                    self.assertEqual(emu.api("wall.get", {"owner_id": -100001})
                                     ["error"]["error_code"], 5)
                finally:
                    self.assertEqual(emu.stop(sig), 0)

    def test_bad_scenario_is_refused_with_a_clear_message(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = self.write(tmp, "bad.json", '{"token": "x",\n "communities": [}')
            proc = subprocess.run([PYTHON, VKEMU, "--scenario", path], capture_output=True,
                                  text=True, timeout=10)
            self.assertEqual(proc.returncode, 2)
            self.assertIn("line 2", proc.stderr)
            path = self.write(tmp, "bad2.json", {"token": "x", "communities": [{"id": -5}]})
            proc = subprocess.run([PYTHON, VKEMU, "--scenario", path], capture_output=True,
                                  text=True, timeout=10)
            self.assertEqual(proc.returncode, 2)
            self.assertIn("communities[0]", proc.stderr)
            path = self.write(tmp, "bad3.json", {"token": "x", "users": [
                {"id": 5, "first_name": "A", "last_name": "B", "deactivated": "frozen"}]})
            proc = subprocess.run([PYTHON, VKEMU, "--scenario", path], capture_output=True,
                                  text=True, timeout=10)
            self.assertEqual(proc.returncode, 2)
            self.assertIn("users[0]: \"deactivated\"", proc.stderr)

    def test_timeline_posts_appear_on_time_with_relative_dates(self):
        scenario = {
            "token": "t",
            "communities": [{"id": 7, "name": "Тест", "posts": [
                {"id": 1, "date_offset": -86400, "text": "вчера"}]}],
            "timeline": [{"at": 0.3, "owner_id": -7,
                          "post": {"text": "Эфир {{day:23:59}} в 23:59, начало {{time:+0}}",
                                   "attachments": [{"type": "video", "video": {
                                       "id": 1, "owner_id": -7, "upcoming": 1,
                                       "live_start_time": "@23:59"}}]}}],
        }
        with tempfile.TemporaryDirectory() as tmp:
            emu = Emulator(self.write(tmp, "tl.json", scenario), ["--quiet"])
            try:
                start = emu.control("stats")["started"]
                items = emu.api("wall.get", {"owner_id": -7}, token="t")["response"]["items"]
                self.assertEqual([p["id"] for p in items], [1])
                self.assertEqual(items[0]["date"], start - 86400)
                time.sleep(0.6)
                items = emu.api("wall.get", {"owner_id": -7}, token="t")["response"]["items"]
                self.assertEqual([p["id"] for p in items], [2, 1])
                self.assertIn(items[0]["date"], (start, start + 1))
                self.assertNotIn("{{", items[0]["text"])
                self.assertRegex(items[0]["text"], r"^Эфир (сегодня|завтра) в 23:59, начало \d\d:\d\d$")
                live = items[0]["attachments"][0]["video"]["live_start_time"]
                self.assertTrue(start < live <= start + 86400)
            finally:
                emu.stop()

    def test_demo_scenario(self):
        emu = Emulator(DEMO, ["--quiet"])
        try:
            token = "demo-token"
            names = ("seversky_adm_demo,sosh45_severskaya_demo,sevcrb_demo,sev_avtobus_demo,"
                     "mfc_seversky_demo")
            groups = emu.api("groups.getById", {"group_ids": names}, token=token)
            ids = [g["id"] for g in groups["response"]["groups"]]
            self.assertEqual(len(ids), 5)
            self.assertTrue(all(210000100 < i < 210000200 for i in ids))
            released = emu.control("release_timeline")
            self.assertEqual(len(released["released"]), 8)
            self.assertEqual(released["pending"], 0)
            code = execute_code(*["API.wall.get({owner_id:-%d,count:100})" % i for i in ids],
                                "API.wall.get({owner_id:210000901})")
            r = emu.api("execute", {"code": code}, token=token)
            self.assertNotIn("execute_errors", r)
            text = json.dumps(r, ensure_ascii=False)
            self.assertNotIn("{{", text)
            # no relative time left unresolved (VK's own carousel_offset is a real key)
            self.assertNotRegex(text, r'"(date|edited|live_start_time|created|end_date)_offset"')
            lives = []
            for wall in r["response"][:5]:
                self.assertEqual(wall["items"][0].get("is_pinned"), 1)
                self.assertTrue(4 <= wall["count"] <= 10)
                for post in wall["items"]:
                    for att in post.get("attachments", []):
                        if att["type"] == "video" and att["video"].get("upcoming"):
                            lives.append(att["video"])
            self.assertEqual(len(lives), 1)
            self.assertGreater(lives[0]["live_start_time"], emu.control("stats")["started"])
        finally:
            emu.stop()


if __name__ == "__main__":
    unittest.main()
