package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/shop"
)

// Products stores the catalog. Reads are routed by DB.read.
type Products struct{ db *DB }

// Products returns the product store.
func (db *DB) Products() *Products { return &Products{db} }

const productColumns = `id, name, description, price_cents, stock, version`

func scanProduct(row pgx.Row) (shop.Product, error) {
	var p shop.Product
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.PriceCents, &p.Stock, &p.Version)
	return p, err
}

// Product returns one product or shop.ErrNotFound.
func (s *Products) Product(ctx context.Context, id int64) (shop.Product, error) {
	var p shop.Product
	err := s.db.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		p, err = scanProduct(q.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = $1`, id))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return shop.Product{}, shop.Errorf(shop.ErrNotFound, "product %d not found", id)
	}
	return p, err
}

// Products returns up to limit products with an id above after, by id.
func (s *Products) Products(ctx context.Context, after int64, limit int) (shop.ProductPage, error) {
	var page shop.ProductPage
	err := s.db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT `+productColumns+` FROM products WHERE id > $1 ORDER BY id LIMIT $2`, after, limit+1)
		if err != nil {
			return err
		}
		items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Product, error) { return scanProduct(r) })
		if err != nil {
			return err
		}
		page = shop.ProductPage{Items: items}
		return nil
	})
	if err != nil {
		return shop.ProductPage{}, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextAfter = page.Items[limit-1].ID
	}
	if page.Items == nil {
		page.Items = []shop.Product{}
	}
	return page, nil
}

// CreateProduct inserts a product.
func (s *Products) CreateProduct(ctx context.Context, in shop.ProductInput) (shop.Product, consistency.LSN, error) {
	var p shop.Product
	lsn, err := s.db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRow(ctx,
			`INSERT INTO products (name, description, price_cents, stock) VALUES ($1, $2, $3, $4) RETURNING `+productColumns,
			in.Name, in.Description, in.PriceCents, in.Stock))
		return err
	})
	return p, lsn, err
}

// UpdateProduct replaces the writable fields of a product and bumps its version.
func (s *Products) UpdateProduct(ctx context.Context, id int64, in shop.ProductInput) (shop.Product, consistency.LSN, error) {
	var p shop.Product
	lsn, err := s.db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRow(ctx,
			`UPDATE products SET name = $2, description = $3, price_cents = $4, stock = $5, version = version + 1, updated_at = now()
			 WHERE id = $1 RETURNING `+productColumns,
			id, in.Name, in.Description, in.PriceCents, in.Stock))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return shop.Product{}, 0, shop.Errorf(shop.ErrNotFound, "product %d not found", id)
	}
	return p, lsn, err
}
