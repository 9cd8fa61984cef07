-- +goose Up
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text        NOT NULL UNIQUE,
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('customer', 'admin')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
    id          bigserial PRIMARY KEY,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    price_cents bigint      NOT NULL CHECK (price_cents >= 0),
    stock       bigint      NOT NULL CHECK (stock >= 0),
    -- version grows on every change of the row and makes the HTTP ETag.
    version     bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id                   bigserial PRIMARY KEY,
    user_id              bigint      NOT NULL REFERENCES users (id),
    status               text        NOT NULL,
    total_cents          bigint      NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    -- set by the worker once the confirmation is sent (a later migration adds the outbox).
    confirmation_sent_at timestamptz
);
CREATE INDEX orders_user_id_idx ON orders (user_id);

CREATE TABLE order_items (
    order_id    bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id  bigint NOT NULL REFERENCES products (id),
    quantity    bigint NOT NULL CHECK (quantity > 0),
    price_cents bigint NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

-- One row per (user, Idempotency-Key): the hash of the first request and the
-- response it got, replayed for a repeated key.
CREATE TABLE idempotency_keys (
    user_id      bigint      NOT NULL REFERENCES users (id),
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    order_id     bigint REFERENCES orders (id),
    response     bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE order_items;
DROP TABLE orders;
DROP TABLE products;
DROP TABLE users;
