"""Support tickets, complaints, satisfaction, e-mail engagement and app use."""

from __future__ import annotations

from custml.features.spec import Family, FeatureSpec

__all__ = ["FEATURES"]

_SERVICE = Family("service")


def _rate(kind: str, w: int) -> str:
    sent = f"count(*) FILTER (WHERE kind = 'email_sent' AND age <= {w})"
    got = f"count(*) FILTER (WHERE kind = '{kind}' AND age <= {w})"
    return f"CASE WHEN {sent} > 0 THEN least(1e0, {got} / {sent}) END"


def _counts() -> list[FeatureSpec]:
    """Tickets and complaints opened in the last 90 and 365 days."""
    service: list[FeatureSpec] = []
    for kind, label in (("support_ticket", "tickets"), ("complaint", "complaints")):
        for w in (90, 365):
            service.append(
                _SERVICE.numeric(
                    f"{label}_{w}d",
                    f"{label.capitalize()} opened in the last {w} days.",
                    f"count(*) FILTER (WHERE kind = '{kind}' AND age <= {w})",
                    "service_events",
                    high=f"{{value:.0f}} {label} in the last {w} days",
                    low=f"{{value:.0f}} {label} in the last {w} days",
                    window=w,
                    requires=("interactions.kind",),
                    fill=0.0,
                )
            )
    return service


def _days_since() -> list[FeatureSpec]:
    """Days since the last ticket and complaint."""
    service: list[FeatureSpec] = []
    for kind, label in (("support_ticket", "ticket"), ("complaint", "complaint")):
        service.append(
            _SERVICE.numeric(
                f"days_since_last_{label}",
                f"Days since the last {label} (null if none).",
                f"min(age) FILTER (WHERE kind = '{kind}')",
                "service_events",
                high=f"last {label} {{value:.0f}} days ago",
                low=f"{label} only {{value:.0f}} days ago",
                requires=("interactions.kind",),
            )
        )
    return service


_RESOLUTION_AND_SATISFACTION: tuple[FeatureSpec, ...] = (
    _SERVICE.numeric(
        "open_complaints",
        "Complaints not resolved at the cutoff (resolved later, or never, count as open).",
        "count(*) FILTER (WHERE kind = 'complaint' AND NOT (coalesce(resolved, FALSE) "
        "AND coalesce(resolution_hours < age * 24, TRUE)))",
        "service_events",
        high="{value:.0f} unresolved complaints",
        low="no unresolved complaint",
        requires=("interactions.kind", "interactions.resolved"),
        fill=0.0,
    ),
    _SERVICE.numeric(
        "resolution_hours_mean",
        "Mean hours to resolve the tickets and complaints resolved before the cutoff.",
        "avg(resolution_hours) FILTER (WHERE kind IN ('support_ticket', 'complaint') AND resolved "
        "AND resolution_hours < age * 24)",
        "service_events",
        high="slow service (issues took {value:.0f} hours to resolve)",
        low="fast service (issues resolved in {value:.0f} hours)",
        requires=("interactions.kind", "interactions.resolved", "interactions.resolution_hours"),
    ),
    _SERVICE.numeric(
        "satisfaction_last",
        "Score (1-5) of the latest satisfaction survey.",
        "arg_min(score, age) FILTER (WHERE kind = 'survey' AND score IS NOT NULL)",
        "service_events",
        high="last satisfaction score {value:.0f} of 5",
        low="last satisfaction score only {value:.0f} of 5",
        requires=("interactions.kind", "interactions.score"),
    ),
    _SERVICE.numeric(
        "satisfaction_mean",
        "Mean score (1-5) of the satisfaction surveys.",
        "avg(score) FILTER (WHERE kind = 'survey')",
        "service_events",
        high="satisfied (mean score {value:.1f} of 5)",
        low="unsatisfied (mean score {value:.1f} of 5)",
        requires=("interactions.kind", "interactions.score"),
    ),
)


def _email_rates() -> list[FeatureSpec]:
    """E-mail open and click rates in the last 30, 90 and 365 days."""
    service: list[FeatureSpec] = []
    for w in (30, 90, 365):
        service += [
            _SERVICE.numeric(
                f"email_open_rate_{w}d",
                f"E-mails opened over e-mails sent in the last {w} days (null if none sent; at most 1).",
                _rate("email_open", w),
                "engagement_events",
                high=f"opens {{value:.0%}} of e-mails (last {w} days)",
                low=f"opens only {{value:.0%}} of e-mails (last {w} days)",
                window=w,
                requires=("interactions.kind",),
            ),
            _SERVICE.numeric(
                f"email_click_rate_{w}d",
                f"E-mail clicks over e-mails sent in the last {w} days (null if none sent; at most 1).",
                _rate("email_click", w),
                "engagement_events",
                high=f"clicks {{value:.0%}} of e-mails (last {w} days)",
                low=f"clicks only {{value:.0%}} of e-mails (last {w} days)",
                window=w,
                requires=("interactions.kind",),
            ),
        ]
    return service


def _app_sessions() -> list[FeatureSpec]:
    """App sessions in the last 30, 90 and 365 days."""
    service: list[FeatureSpec] = []
    for w in (30, 90, 365):
        service.append(
            _SERVICE.numeric(
                f"app_sessions_{w}d",
                f"App sessions in the last {w} days.",
                f"count(*) FILTER (WHERE kind = 'app_session' AND age <= {w})",
                "engagement_events",
                high=f"{{value:.0f}} app sessions in the last {w} days",
                low=f"only {{value:.0f}} app sessions in the last {w} days",
                window=w,
                requires=("interactions.kind",),
                fill=0.0,
            )
        )
    return service


FEATURES: tuple[FeatureSpec, ...] = (
    *_counts(),
    *_days_since(),
    *_RESOLUTION_AND_SATISFACTION,
    *_email_rates(),
    *_app_sessions(),
)
