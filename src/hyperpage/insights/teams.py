"""Teams from HYPERPAGE_TEAMS_FILE (YAML): which people the `team` filter of the insights means.

    teams:
      platform: [alice, bob]
      web:
        - carol

Read and checked once when the web process starts, so a mistake stops it with a message naming the variable
instead of surfacing as a wrong figure later. Logins compare case-insensitively (GitHub and GitLab ignore case).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from hyperpage.config import ConfigError, Settings

VARIABLE = "HYPERPAGE_TEAMS_FILE"
Teams = dict[str, frozenset[str]]


def load_teams(settings: Settings) -> Teams:
    path = settings.hyperpage_teams_file
    if path is None:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{VARIABLE}: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{VARIABLE}: {path} is not valid YAML ({type(exc).__name__})") from None
    teams = data.get("teams") if isinstance(data, dict) else None
    if not isinstance(teams, dict) or not teams:
        raise ConfigError(f"{VARIABLE}: {path} needs a top-level `teams:` mapping of team name -> list of logins")
    found: Teams = {}
    for name, members in teams.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ConfigError(f"{VARIABLE}: team name {name!r} must be text of 1-100 characters")
        if not isinstance(members, list) or not all(isinstance(m, str) and m.strip() for m in members):
            raise ConfigError(f"{VARIABLE}: team {name!r} needs a list of logins (non-empty text)")
        found[name] = frozenset(m.strip().lower() for m in members)
    return found
