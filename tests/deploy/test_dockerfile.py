"""``deploy/Dockerfile`` read instruction by instruction (no Docker engine here): built in
stages, run as a non-root user, health-checked on ``/health/live``, no secret in it; and
``.dockerignore`` keeps environments, history and dependencies out of the build."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tests.deploy.conftest import DEPLOY, ROOT

SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE|CREDENTIAL", re.I)


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [argument for word, argument in self.instructions if word == keyword]


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = pending + line
        pending = ""
        keyword, _, argument = whole.partition(" ")
        found.append((keyword.upper(), argument.strip()))
    return found


def stages() -> tuple[list[tuple[str, str]], list[Stage]]:
    """The instructions before the first FROM (global ARGs), and each stage's."""
    preamble: list[tuple[str, str]] = []
    built: list[Stage] = []
    for keyword, argument in instructions((DEPLOY / "Dockerfile").read_text()):
        if keyword == "FROM":
            words = argument.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            built.append(Stage(words[0], name))
        elif built:
            built[-1].instructions.append((keyword, argument))
        else:
            preamble.append((keyword, argument))
    return preamble, built


def test_the_image_is_built_in_stages_from_pinned_bases() -> None:
    preamble, built = stages()
    assert len(built) >= 2
    names = {stage.name for stage in built}
    copied_from = {
        m[1]
        for stage in built
        for copy in stage.all("COPY")
        for m in [re.search(r"--from=(\S+)", copy)]
        if m
    }
    assert copied_from <= names, "a COPY --from names no stage"
    defaults = dict(arg.partition("=")[::2] for kind, arg in preamble if kind == "ARG")
    for stage in built:
        base = re.sub(r"\$\{(\w+)\}", lambda m: defaults.get(m[1], m[0]), stage.base)
        assert base in names or re.search(r":\d", base), f"unpinned base image {base}"


def test_the_final_stage_runs_cift_as_a_user_with_a_health_check() -> None:
    final = stages()[1][-1]
    (user,) = final.all("USER")
    assert user.split(":")[0] not in ("root", "0")
    (check,) = final.all("HEALTHCHECK")
    assert "/health/live" in check
    assert "CMD" in check
    assert final.all("EXPOSE") == ["8000"]
    assert final.all("ENTRYPOINT") == ['["cift"]']
    assert final.all("CMD") == ['["serve", "--host", "0.0.0.0"]']
    installs = " ".join(final.all("RUN"))
    assert "--constraint" in installs
    assert "cift[all]" in installs


def test_no_secret_is_baked_in() -> None:
    preamble, built = stages()
    settings = [arg for kind, arg in preamble if kind == "ARG"]
    for stage in built:
        settings += stage.all("ARG") + stage.all("ENV")
    names = [
        m for setting in settings for m in re.findall(r"(\w+)=", setting) or [setting.split()[0]]
    ]
    assert names, "no ENV or ARG found: the parser is broken"
    assert [name for name in names if SECRET_NAME.search(name)] == []


def excluded(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` out of the context (the last matching line wins)."""
    verdict = False
    parts = path.split("/")
    for line in patterns:
        keep = line.startswith("!")
        regex = _regex(line.lstrip("!"))
        if any(regex.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            verdict = not keep
    return verdict


def _regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def test_dockerignore_keeps_environments_history_and_dependencies_out() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in (
        ".venv/bin/python", ".git/HEAD", "web/node_modules/react/package.json", ".env",
        ".cift/cift.db", "src/cift/__pycache__/x.pyc", "src/cift/web/dist/index.html",
    ):  # fmt: skip
        assert excluded(path, lines), f"{path} would be sent to the build"
    for path in (
        "pyproject.toml", "README.md", "requirements/constraints.txt", "src/cift/__init__.py",
        "web/package.json", "web/package-lock.json", "web/src/main.tsx", "deploy/Dockerfile",
    ):  # fmt: skip
        assert not excluded(path, lines), f"{path} is needed by the build"
