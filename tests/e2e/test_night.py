"""`sohs run` as cron runs it (issue 16): no terminal, a fresh process, the settings file in another
folder than the working one, a minimal environment, stdout appended to a `.jsonl` file, against
`sohs portal serve` with faults on. After every scenario: every input was delivered once, rejected
with its reason, or still waits in the outbox with its reason named; the ledger holds every receipt;
the JSON-lines log ends with `end`."""

from __future__ import annotations

import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from sohs_cli.documents import samples
from sohs_cli.foundation.errors import ExitCode
from sohs_cli.signing.testpki import TestPki
from tests.portal_helpers import PASSWORD, USER, envelope, served

ROOT = Path(__file__).resolve().parents[2]
SOHS = str(Path(sys.executable).parent / "sohs")


def clinic(tmp_path: Path, pki: TestPki, base: str, **settings: str) -> dict[str, Path]:
    """A clinic as `sohs init` leaves it, with the password in a file (mode 0600), as the README says."""
    folder = tmp_path / "srv-sohs"
    for name in ("outbox", "sent", "rejected", "failed"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    secret = tmp_path / "etc-sohs-portal"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    keys = folder / "keys"  # beside the settings, named relatively: found from any working folder
    keys.mkdir(exist_ok=True)
    shutil.copy(pki.clinic_p12, keys / "clinic.p12")
    shutil.copy(pki.password_file, keys / "p12-password.txt")
    extra = "".join(f"{k} = {v}\n" for k, v in settings.items())
    (folder / "sohs.toml").write_text(
        f'facility = "79001"\n[portal]\nurl = "{base}"\nusername = "{USER}"\nconcurrency = 4\ntimeout = 2\n'
        f'attempts = 8\ndeadline = 60\n[signing]\np12 = "keys/clinic.p12"\npassword_file = "keys/p12-password.txt"\n'
        f'[run]\nsettle_seconds = 0\n{extra}', encoding="utf-8")
    return {"folder": folder, "secret": secret, "user": tmp_path / "user-home", "log": tmp_path / "var-log-sohs"}


def cron_env(c: dict[str, Path]) -> dict[str, str]:
    """What cron gives a job: a bare PATH, HOME, LANG=C, nothing of ours but the password file."""
    c["user"].mkdir(exist_ok=True)
    return {"PATH": "/usr/bin:/bin", "HOME": str(c["user"]), "LANG": "C", "SHELL": "/bin/sh",
            "SOHS_PORTAL_PASSWORD_FILE": str(c["secret"]), "SOHS_LANG": "en"}


def cron(c: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    """`sohs run` from `/`, with `--config` naming the settings in the clinic's folder."""
    return subprocess.run([SOHS, "run", "--config", str(c["folder"] / "sohs.toml"), *args], cwd="/",
                          env=cron_env(c), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)


def data_home(c: dict[str, Path]) -> Path:
    return c["user"] / ".local" / "share" / "sohs"  # the default data folder: no SOHS_HOME under cron


def events(c: dict[str, Path]) -> list[dict[str, object]]:
    return [json.loads(line) for line in (data_home(c) / "sohs.log").read_text().splitlines()]


def test_the_readme_cron_line_pasted_as_it_is(tmp_path: Path, pki: TestPki) -> None:
    with served(tmp_path, pki) as base:
        c = clinic(tmp_path, pki, base)
        for i in range(3):
            (c["folder"] / "outbox" / f"e{i}.xml").write_bytes(envelope(f"LKCRON{i:04d}"))
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        line = re.search(r"```cron\n(.+?)\n```", readme, re.S).group(1)  # type: ignore[union-attr]
        command = line.split(None, 5)[5]  # minute hour day month weekday, then the command
        for real, here in (("/srv/sohs", str(c["folder"])), ("/etc/sohs/portal", str(c["secret"])),
                           ("/etc/sohs/p12", str(pki.password_file)), ("/opt/sohs/bin/sohs", SOHS),
                           ("/var/log/sohs", str(c["log"])), ("--jitter 600", "--jitter 1")):
            assert real in command, real
            command = command.replace(real, here)
        c["log"].mkdir()
        env = cron_env(c)
        del env["SOHS_PORTAL_PASSWORD_FILE"]  # the line sets it itself
        for _night in range(2):
            done = subprocess.run(["/bin/sh", "-c", command], env=env, stdin=subprocess.DEVNULL, timeout=300)
            assert done.returncode == 0, (c["log"] / "runs.err").read_text()
        nights = [json.loads(line) for line in (c["log"] / "runs.jsonl").read_text().splitlines()]
        from tests.cli.schemas import assert_schema

        for night in nights:
            assert_schema("run", night)
        assert [n["delivered"] for n in nights] == [3, 0] and all(n["exit_code"] == 0 for n in nights)
        assert events(c)[-1]["event"] == "end"


def unit_file(text: str) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit as ``{section: [(key, value), ...]}`` (keys may repeat, as systemd allows)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
            continue
        key, sep, value = line.partition("=")
        assert sep and current, f"not a unit line: {raw!r}"
        sections[current].append((key.strip(), value.strip()))
    return sections


def one(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> str:
    (value,) = [v for k, v in unit[section] if k == key]
    return value


def test_the_readme_systemd_units_pasted_as_they_are(tmp_path: Path, pki: TestPki) -> None:
    """The README's sohs.service and sohs.timer: well-formed (`systemd-analyze verify` where it exists),
    and the service's ExecStart run as systemd runs it: a fresh process with no terminal, stdin
    /dev/null, the unit's working directory and Environment=, the environment systemd gives a service
    with User= (a bare PATH, HOME, USER, LOGNAME, SHELL; no LANG), against `sohs portal serve`. The
    JSON-lines log then reads line by line and ends with `end`. What differs from the machine the
    README means is named: its paths (/srv/sohs, /etc/sohs/*, /opt/sohs) and --jitter 600 (1 s here)."""
    import shlex

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    texts = {name: re.search(rf"`/etc/systemd/system/{name}`[^\n]*:\s*```ini\n(.+?)\n```", readme, re.S)
             for name in ("sohs.service", "sohs.timer")}
    assert all(texts.values()), "the README has no sohs.service or sohs.timer block"
    service = unit_file(texts["sohs.service"].group(1))  # type: ignore[union-attr]
    timer = unit_file(texts["sohs.timer"].group(1))  # type: ignore[union-attr]
    assert one(service, "Service", "Type") == "oneshot"
    # systemctl stop mid-run: the SIGTERM exit (finished its step, exit 143) is a clean stop, not a failure
    assert one(service, "Service", "SuccessExitStatus") == str(int(ExitCode.TERMINATED))
    assert one(timer, "Install", "WantedBy") == "timers.target" and one(timer, "Timer", "Persistent") == "true"
    calendar = one(timer, "Timer", "OnCalendar")
    exec_start = one(service, "Service", "ExecStart")
    workdir = one(service, "Service", "WorkingDirectory")
    assignments = dict(a.split("=", 1) for e in (v for k, v in service["Service"] if k == "Environment")
                       for a in shlex.split(e))
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:  # the units as pasted but for the binary's path, which verify requires to exist
        units = tmp_path / "units"
        units.mkdir()
        (units / "sohs.service").write_text(texts["sohs.service"].group(1).replace(  # type: ignore[union-attr]
            "/opt/sohs/bin/sohs", SOHS) + "\n", encoding="utf-8")
        (units / "sohs.timer").write_text(texts["sohs.timer"].group(1) + "\n", encoding="utf-8")  # type: ignore[union-attr]
        verify = subprocess.run([analyze, "verify", str(units / "sohs.service"), str(units / "sohs.timer")],
                                capture_output=True, text=True, timeout=60)
        assert verify.returncode == 0 and "sohs" not in verify.stderr, verify.stderr
        when = subprocess.run([analyze, "calendar", calendar], capture_output=True, text=True, timeout=60)
        assert when.returncode == 0 and "Next elapse" in when.stdout, when.stdout + when.stderr
    with served(tmp_path, pki) as base:
        c = clinic(tmp_path, pki, base)
        for i in range(3):
            (c["folder"] / "outbox" / f"e{i}.xml").write_bytes(envelope(f"LKUNIT{i:04d}"))
        here = {"/srv/sohs": str(c["folder"]), "/etc/sohs/portal": str(c["secret"]),
                "/etc/sohs/p12": str(pki.password_file), "/opt/sohs/bin/sohs": SOHS}
        argv = shlex.split(exec_start)
        assert argv[:2] == ["/opt/sohs/bin/sohs", "run"] and argv[2:] == ["--jitter", "600"], argv
        argv = [here.get(a, a) for a in argv[:-1]] + ["1"]
        assert workdir == "/srv/sohs" and set(assignments) == {"SOHS_PORTAL_PASSWORD_FILE",
                                                               "SOHS_SIGNING_PASSWORD_FILE"}
        c["user"].mkdir(exist_ok=True)
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(c["user"]),
               "USER": "sohs", "LOGNAME": "sohs", "SHELL": "/bin/sh", "SOHS_LANG": "en"}
        env |= {k: here.get(v, v) for k, v in assignments.items()}
        for night in range(2):
            done = subprocess.run(argv, cwd=here[workdir], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=300, start_new_session=True)
            assert done.returncode == 0, done.stdout + done.stderr  # oneshot: 0 is a successful run
            log = (data_home(c) / "sohs.log").read_text(encoding="utf-8")
            lines = [json.loads(line) for line in log.splitlines()]  # every line one JSON event
            ends = [e for e in lines if e["event"] == "end"]
            assert len(ends) == night + 1 and lines[-1]["event"] == "end" and lines[-1]["exit_code"] == 0
        assert ends[0]["delivered"] == 3 and ends[1]["delivered"] == 0
        assert sorted(p.name for p in (c["folder"] / "sent").glob("e*.xml") if ".signed" not in p.name) == \
            ["e0.xml", "e1.xml", "e2.xml"]
    shutil.rmtree(c["user"], ignore_errors=True)


def test_json_and_the_end_event_however_the_run_ends(tmp_path: Path, pki: TestPki) -> None:
    c = clinic(tmp_path, pki, "egw.baohiemxahoi.gov.vn")  # a setting mistake: exit 3 before anything
    (c["folder"] / "outbox" / "e.xml").write_bytes(envelope("LKJSON0001"))
    done = cron(c, "--json")
    assert done.returncode == 3, done.stderr
    (document,) = [json.loads(line) for line in done.stdout.splitlines()]  # one document, one line
    from tests.cli.schemas import assert_schema

    assert_schema("run", document)
    assert document["exit_code"] == 3 and "https://" in document["error"]
    assert events(c)[-1]["event"] == "end" and events(c)[-1]["exit_code"] == 3
    missing = subprocess.run([SOHS, "run", "--json", "--config", str(tmp_path / "nope.toml")], cwd="/",
                             env=cron_env(c), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 3 and json.loads(missing.stdout)["exit_code"] == 3
    assert events(c)[-1]["exit_code"] == 3 and "nope.toml" in str(events(c)[-1]["error"])


def test_sigterm_finishes_the_step_writes_end_and_exits_143(tmp_path: Path, pki: TestPki) -> None:
    with served(tmp_path, pki, "--latency", "0.15") as base:
        c = clinic(tmp_path, pki, base)
        names = [f"t{i:03d}.xml" for i in range(80)]
        for i, name in enumerate(names):
            (c["folder"] / "outbox" / name).write_bytes(envelope(f"LKTERM{i:05d}"))
        proc = subprocess.Popen([SOHS, "run", "--json", "--config", str(c["folder"] / "sohs.toml")], cwd="/",
                                env=cron_env(c), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while len(httpx.get(f"{base}/_mock/submissions").json()) < 8:  # sending is under way
            assert proc.poll() is None and time.monotonic() < deadline, "the run ended before SIGTERM"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 143, err
        assert "Traceback" not in err and len([line for line in err.splitlines() if "SIGTERM" in line]) == 1, err
        assert json.loads(out)["exit_code"] == 143
        end = events(c)[-1]
        assert end["event"] == "end" and end["exit_code"] == 143
        sent = {p.name for p in (c["folder"] / "sent").glob("t*.xml") if not p.name.endswith(".signed.xml")}
        left = {p.name for p in (c["folder"] / "outbox").glob("*.xml")}
        assert sent and left and sent | left == set(names) and not sent & left  # each in one place
        again = cron(c, "--json")
        assert again.returncode == 0, again.stderr
        assert {p.name for p in (c["folder"] / "sent").glob("t*.xml") if not p.name.endswith(".signed.xml")} == \
            set(names)
        portal = httpx.get(f"{base}/_mock/submissions").json()
        assert len(portal) == 80 and all(s["times_received"] == 1 for s in portal)
    shutil.rmtree(c["user"], ignore_errors=True)



def inputs(c: dict[str, Path]) -> dict[str, str]:
    """A night's outbox: name -> what should become of it (sent, rejected, failed, outbox)."""
    outbox = c["folder"] / "outbox"
    plan = {}
    for i in range(16):
        (outbox / f"e{i:02d}.xml").write_bytes(envelope(f"LKN{c['folder'].parent.name[-6:]}{i:04d}"))
        plan[f"e{i:02d}.xml"] = "sent"
    for i in range(2):  # bare tables of two episodes: packed, then sent inside NAME.tables/
        lk = f"LKT{i}/{c['folder'].parent.name[-4:]}"  # a MA_LK with a slash: the name is made safe
        base = samples.xml1_values("3176", lk, ma_loai_rv="2")
        (outbox / f"t{i}_XML1.xml").write_bytes(samples.xml1("3176", lk, ma_loai_rv="2"))
        (outbox / f"t{i}_XML13.xml").write_bytes(samples.xml13("3176", lk, base))
        plan[f"t{i}_XML1.xml"] = plan[f"t{i}_XML13.xml"] = "sent"
    shutil.copy(ROOT / "examples" / "invalid_card_length_3176.xml", outbox / "invalid.xml")
    plan["invalid.xml"] = "rejected"
    (outbox / "broken.xml").write_text("not xml at all")
    plan["broken.xml"] = "failed"
    (outbox / "sub").mkdir()
    (outbox / "sub" / "deep.xml").write_bytes(envelope("LKDEEP0001"))
    plan["sub/deep.xml"] = "outbox"
    return plan


def check_the_night(c: dict[str, Path], base: str, plan: dict[str, str], report: dict[str, object],
                    realistic: bool) -> None:
    """Every input delivered once, rejected with its reason, or waiting in the outbox with its reason;
    the ledger holds every receipt; the log ends with `end`."""
    folder = c["folder"]
    named = {str(f["file"]): f for f in report["files"]}  # type: ignore[attr-defined]
    for name, expected in plan.items():
        if expected == "outbox" or (folder / "outbox" / name).exists():  # waiting: its reason is named
            assert (folder / "outbox" / name).exists() and named[name]["message"], (name, named.get(name))
            continue
        stashed = list((folder / "outbox" / ".packed").glob(f"*/{name}"))
        if stashed:  # a packed table waits with its envelope, which is named with its reason
            envelope_name = stashed[0].parent.name + ".xml"
            assert (folder / "outbox" / envelope_name).exists() and named[envelope_name]["message"], name
            continue
        where = [p for p in folder.rglob(Path(name).name) if "outbox" not in p.parts]
        assert len(where) == 1, (name, where)
        folder_name = where[0].relative_to(folder).parts[0]
        assert folder_name == expected, (name, where)
        if expected in ("rejected", "failed"):
            reason = json.loads(Path(str(where[0]) + ".errors.json").read_text())
            assert reason["message"], name
    db = sqlite3.connect(data_home(c) / "ledger.sqlite3")
    held = {t for (t,) in db.execute("SELECT transaction_id FROM attempts WHERE transaction_id != ''")}
    lost = {s: n for s, n in db.execute("SELECT d.sha256, count(*) FROM attempts a JOIN documents d ON "
                                        "d.id = a.document_id WHERE a.outcome = 'ambiguous' GROUP BY d.sha256")}
    ours = {s for (s,) in db.execute("SELECT sha256 FROM documents")}
    db.close()
    portal = [s for s in httpx.get(f"{base}/_mock/submissions").json() if s["service"] == "bhxh"]
    assert {s["sha256"] for s in portal} <= ours
    by_sha: dict[str, list[dict[str, object]]] = {}
    for s in portal:
        by_sha.setdefault(str(s["sha256"]), []).append(s)
    for sha, copies in by_sha.items():
        if realistic:  # without a lookup a lost reply is sent again, deliberately: at most once per loss
            assert len(copies) <= 1 + lost.get(sha, 0), (sha, copies)
        else:  # the lookup was asked first: one receipt; a second arrival only of a request whose reply
            # was lost (a request that hung past the client's timeout still reaches the portal later)
            assert len(copies) == 1 and copies[0]["times_received"] <= 1 + lost.get(sha, 0), (copies, lost)
        # every receipt the portal gave is in the ledger, but those whose reply was lost, recorded so
        unheard = [c_ for c_ in copies if c_["maGiaoDich"] not in held]
        assert len(unheard) <= lost.get(sha, 0), (sha, copies, lost.get(sha))
    assert held <= {str(s["maGiaoDich"]) for s in portal}
    assert events(c)[-1]["event"] == "end" and events(c)[-1]["exit_code"] == report["exit_code"]


def a_faulty_week(tmp_path: Path, pki: TestPki, *mode: str) -> None:
    faults = ["--fail-rate", "0.15", "--drop-after-accept", "0.25", "--timeout-rate", "0.04", "--hang-seconds", "3",
              "--seed", "16"]
    with served(tmp_path, pki, *faults, *mode) as base:
        c = clinic(tmp_path, pki, base)
        plan = inputs(c)
        for _night in range(6):  # cron, night after night, until nothing waits for the portal
            done = cron(c, "--json")
            report = json.loads(done.stdout)
            # 1: the invalid documents (the night they are filed), 4: the portal left some waiting
            assert done.returncode in (0, 1, 4), done.stdout + done.stderr
            check_the_night(c, base, plan, report, realistic=bool(mode))
            if done.returncode != 4:
                break
        assert done.returncode in (0, 1) and report["ignored"] == 1, report
        assert not [p for p in (c["folder"] / "outbox").glob("*.xml")]


def test_a_faulty_week_against_the_default_simulator(tmp_path: Path, pki: TestPki) -> None:
    a_faulty_week(tmp_path, pki)


def test_a_faulty_week_against_the_realistic_gateway(tmp_path: Path, pki: TestPki) -> None:
    a_faulty_week(tmp_path, pki, "--realistic")
