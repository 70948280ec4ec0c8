"""The pricing repository over one SQLAlchemy connection (one unit of work).

Reserving a unit of the daily discount quota is one conditional upsert (see
:mod:`carebook_sqlalchemy.schema.sagas`): no read-then-write race on PostgreSQL, and on
SQLite writers are serialised by ``BEGIN IMMEDIATE`` anyway. The per-saga reservation
row is written first (``ON CONFLICT DO NOTHING``), so a saga never takes two units.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Table, bindparam, delete, func, select, update

from carebook.domain.ids import OrganisationId, PatientId, SagaId
from carebook.domain.pricing.config import PricingAuditEntry, PricingConfig, StoredPromo
from carebook.domain.pricing.promo import normalise_code
from carebook.errors import ConflictError
from carebook.serialization import dumps, loads
from carebook_sqlalchemy.repositories.base import Rows
from carebook_sqlalchemy.schema.sagas import (
    DiscountQuotaRow,
    PricingAuditRow,
    PricingConfigRow,
    PromoCodeRow,
    PromoUseRow,
    QuotaReservationRow,
)

__all__ = ["PricingRepository"]

CONFIGS: Table = PricingConfigRow.__table__  # type: ignore[assignment]
PROMOS: Table = PromoCodeRow.__table__  # type: ignore[assignment]
USES: Table = PromoUseRow.__table__  # type: ignore[assignment]
QUOTA: Table = DiscountQuotaRow.__table__  # type: ignore[assignment]
RESERVATIONS: Table = QuotaReservationRow.__table__  # type: ignore[assignment]
AUDIT: Table = PricingAuditRow.__table__  # type: ignore[assignment]
_CONFIG = select(CONFIGS.c.data).where(CONFIGS.c.organisation_id == bindparam("org"))


class PricingRepository:
    def __init__(self, conn: Connection, *, write: bool) -> None:
        self._conn = conn
        self._rows = Rows(conn, write=write)

    # -- configuration and promo codes ---------------------------------------------------
    def get_config(self, organisation_id: OrganisationId) -> PricingConfig | None:
        data = self._conn.execute(_CONFIG, {"org": organisation_id}).scalar()
        return None if data is None else loads(data, PricingConfig)

    def save_config(self, config: PricingConfig) -> None:
        self._rows.require_write()
        values = {"version": config.version, "data": dumps(config)}
        if config.version == 1:
            stmt = self._rows.insert(CONFIGS).values(
                organisation_id=config.organisation_id, **values
            )
            inserted = stmt.on_conflict_do_nothing().returning(CONFIGS.c.version)
            done = 0 if self._conn.execute(inserted).first() is None else 1
        else:
            done = self._conn.execute(
                update(CONFIGS)
                .where(CONFIGS.c.organisation_id == config.organisation_id)
                .where(CONFIGS.c.version == config.version - 1)
                .values(**values)
            ).rowcount
        if done != 1:
            raise ConflictError(
                f"the pricing of organisation {config.organisation_id} was changed concurrently"
            )

    def get_promo(self, organisation_id: OrganisationId, code: str) -> StoredPromo | None:
        """In a write unit of work the code's row is locked (``FOR UPDATE``) until the
        transaction ends, so the usage counted after it is exact: two requests racing
        for a code's last use are serialised (SQLite writers are serialised anyway)."""
        stmt = select(PROMOS.c.data).where(
            PROMOS.c.organisation_id == organisation_id, PROMOS.c.code == normalise_code(code)
        )
        if self._rows.write:
            stmt = stmt.with_for_update()
        data = self._conn.execute(stmt).scalar()
        return None if data is None else loads(data, StoredPromo)

    def save_promo(self, promo: StoredPromo) -> None:
        self._rows.require_write()
        values = {"active": promo.active, "data": dumps(promo)}
        stmt = self._rows.insert(PROMOS).values(
            organisation_id=promo.organisation_id, code=promo.code, **values
        )
        self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["organisation_id", "code"], set_=values)
        )

    # -- promo uses ----------------------------------------------------------------------
    def promo_usage(
        self, organisation_id: OrganisationId, code: str, patient_id: PatientId
    ) -> tuple[int, int]:
        mine = func.count().filter(USES.c.patient_id == patient_id)
        stmt = select(func.count(), mine).where(
            USES.c.organisation_id == organisation_id, USES.c.code == normalise_code(code)
        )
        row = self._conn.execute(stmt).one()
        return int(row[0]), int(row[1])

    def record_promo_use(
        self, organisation_id: OrganisationId, code: str, patient_id: PatientId, saga_id: SagaId
    ) -> None:
        self._rows.require_write()
        stmt = self._rows.insert(USES).values(
            saga_id=saga_id,
            organisation_id=organisation_id,
            code=normalise_code(code),
            patient_id=patient_id,
        )
        self._conn.execute(stmt.on_conflict_do_nothing())

    def release_promo_use(self, saga_id: SagaId) -> bool:
        self._rows.require_write()
        return bool(self._conn.execute(delete(USES).where(USES.c.saga_id == saga_id)).rowcount)

    # -- the daily discount quota ----------------------------------------------------------
    def quota_used(self, organisation_id: OrganisationId, day: dt.date) -> int:
        stmt = select(QUOTA.c.used).where(
            QUOTA.c.organisation_id == organisation_id, QUOTA.c.day == day.isoformat()
        )
        return int(self._conn.execute(stmt).scalar() or 0)

    def reserve_quota(
        self, organisation_id: OrganisationId, day: dt.date, limit: int, saga_id: SagaId
    ) -> bool:
        self._rows.require_write()
        key = day.isoformat()
        claim = self._rows.insert(RESERVATIONS).values(
            saga_id=saga_id, organisation_id=organisation_id, day=key
        )
        claimed = self._conn.execute(
            claim.on_conflict_do_nothing().returning(RESERVATIONS.c.saga_id)
        ).first()
        if claimed is None:
            return True  # this saga already holds its unit
        if limit <= 0:
            self._unclaim(saga_id)
            return False
        take = self._rows.insert(QUOTA).values(organisation_id=organisation_id, day=key, used=1)
        taken = self._conn.execute(
            take.on_conflict_do_update(
                index_elements=["organisation_id", "day"],
                set_={"used": QUOTA.c.used + 1},
                where=QUOTA.c.used < limit,
            ).returning(QUOTA.c.used)
        ).first()
        if taken is None:
            self._unclaim(saga_id)
            return False
        return True

    def _unclaim(self, saga_id: SagaId) -> None:
        self._conn.execute(delete(RESERVATIONS).where(RESERVATIONS.c.saga_id == saga_id))

    def release_quota(self, saga_id: SagaId) -> bool:
        self._rows.require_write()
        released = self._conn.execute(
            delete(RESERVATIONS)
            .where(RESERVATIONS.c.saga_id == saga_id)
            .returning(RESERVATIONS.c.organisation_id, RESERVATIONS.c.day)
        ).first()
        if released is None:
            return False
        self._conn.execute(
            update(QUOTA)
            .where(
                QUOTA.c.organisation_id == released.organisation_id,
                QUOTA.c.day == released.day,
                QUOTA.c.used > 0,
            )
            .values(used=QUOTA.c.used - 1)
        )
        return True

    # -- audit ---------------------------------------------------------------------------
    def add_audit(self, entry: PricingAuditEntry) -> None:
        self._rows.require_write()
        self._conn.execute(
            AUDIT.insert().values(
                id=entry.id, organisation_id=entry.organisation_id, data=dumps(entry)
            )
        )

    def audit_log(
        self, organisation_id: OrganisationId, limit: int = 100
    ) -> list[PricingAuditEntry]:
        stmt = (
            select(AUDIT.c.data)
            .where(AUDIT.c.organisation_id == organisation_id)
            .order_by(AUDIT.c.position.desc())
            .limit(max(0, limit))
        )
        rows = list(self._conn.execute(stmt).scalars())
        return [loads(data, PricingAuditEntry) for data in reversed(rows)]
