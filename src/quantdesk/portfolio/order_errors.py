"""Why an order request is refused (docs/paper-trading.md, "Orders"): problem codes
`order-not-found`, `order-not-open`, `idempotency-key-reused`, `client-order-id-reused` and,
for a replacement the pre-trade checks would reject, `order-rejected`."""

from __future__ import annotations

from quantdesk.errors import Conflict, NotFound, Unprocessable, field_error
from quantdesk.models.portfolio import PaperOrder

IDEMPOTENCY_HEADER = "Idempotency-Key"


class OrderNotFound(NotFound):
    code = "order-not-found"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order {order_id!r} in this account")


class OrderNotOpen(Conflict):
    code = "order-not-open"

    def __init__(self, order: PaperOrder) -> None:
        super().__init__(f"order {order.id} is {order.status.value}: only open orders change")


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency-key-reused"

    def __init__(self) -> None:
        message = "this Idempotency-Key was used for a different order; use a new key"
        super().__init__(message, errors=[field_error(["header", IDEMPOTENCY_HEADER], message)])


class ClientOrderIdReused(Conflict):
    code = "client-order-id-reused"

    def __init__(self, client_order_id: str) -> None:
        super().__init__(
            f"client_order_id {client_order_id!r} names another order of this account",
            errors=[field_error(["body", "client_order_id"], "already used for another order")],
        )


class ReplaceRejected(Unprocessable):
    """The replacement failed the pre-trade checks: nothing changed (the transaction is rolled
    back), the old order stays open."""

    code = "order-rejected"

    def __init__(self, order_id: str, reject_reason: str, detail: str) -> None:
        super().__init__(f"the replacement would be rejected ({reject_reason}): {detail}")
        self.order_id = order_id
        self.reject_reason = reject_reason
