"""The catalogue of complete backups at a destination, and `backup prune`.

Policy: a backup is kept when it is younger than keep_days or among the newest keep_copies (either rule
keeps it; with neither set nothing is deleted). Whatever the policy says, the newest verified backup is
kept when no other verified backup would survive: pruning must never leave only unproven copies.
Left-overs of crashed runs (a data file without a manifest, a `.partial`) are removed after a day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hyperpage.backup.destinations import MANIFEST_SUFFIX, VERIFIED_SUFFIX, BackupError, Destination
from hyperpage.backup.manifest import Manifest
from hyperpage.backup.verify import verification_of

ORPHAN_GRACE = timedelta(days=1)


def list_backups(destination: Destination) -> list[Manifest]:
    """Complete backups (those with a manifest), newest first."""
    manifests = []
    for obj in destination.list():
        if obj.name.endswith(MANIFEST_SUFFIX) and not obj.name.startswith("."):
            raw = destination.get_text(obj.name)
            if raw is not None:
                manifests.append(Manifest.from_json(raw))
    return sorted(manifests, key=lambda m: (m.finished_at, m.id), reverse=True)


def find_backup(destination: Destination, backup_id: str | None) -> Manifest:
    """The backup with that id, or the newest one."""
    backups = list_backups(destination)
    if not backups:
        raise BackupError(f"no backups at {destination.url}")
    if backup_id is None:
        return backups[0]
    for manifest in backups:
        if manifest.id == backup_id:
            return manifest
    raise BackupError(f"no backup {backup_id!r} at {destination.url}")


@dataclass
class PrunePlan:
    keep: list[Manifest] = field(default_factory=list)
    delete: list[Manifest] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    protected: str | None = None  # id kept only because it is the last verified backup


def plan_prune(
    backups: list[Manifest], verified: set[str], *, now: datetime, keep_days: int | None, keep_copies: int | None
) -> PrunePlan:
    """Decide, without touching anything, which backups the policy keeps (backups newest first)."""
    plan = PrunePlan()
    if not keep_days and not keep_copies:
        plan.keep = list(backups)
        return plan
    cutoff = now - timedelta(days=keep_days) if keep_days else None
    for rank, manifest in enumerate(backups):
        young = cutoff is not None and manifest.finished >= cutoff
        recent = keep_copies is not None and rank < keep_copies
        (plan.keep if young or recent else plan.delete).append(manifest)
    if not any(m.id in verified for m in plan.keep):
        last_verified = next((m for m in plan.delete if m.id in verified), None)
        if last_verified is not None:
            plan.delete.remove(last_verified)
            plan.keep.append(last_verified)
            plan.protected = last_verified.id
    return plan


def prune(
    destination: Destination, *, now: datetime, keep_days: int | None, keep_copies: int | None, dry_run: bool = False
) -> PrunePlan:
    backups = list_backups(destination)
    verified = {m.id for m in backups if verification_of(destination, m.id)}
    plan = plan_prune(backups, verified, now=now, keep_days=keep_days, keep_copies=keep_copies)
    owned = {name for m in backups for name in (m.file, m.manifest_name, f"{m.id}{VERIFIED_SUFFIX}")}
    plan.orphans = [
        obj.name
        for obj in destination.list()
        if obj.name not in owned
        and now.timestamp() - obj.modified > ORPHAN_GRACE.total_seconds()
        and _looks_like_ours(obj.name)
    ]
    if dry_run:
        return plan
    for manifest in plan.delete:
        # The manifest goes first: a half-deleted backup must not look complete.
        for name in (manifest.manifest_name, manifest.file, f"{manifest.id}{VERIFIED_SUFFIX}"):
            destination.delete(name)
    for name in plan.orphans:
        destination.delete(name)
    return plan


def _looks_like_ours(name: str) -> bool:
    return name.lstrip(".").startswith("hyperpage-")
