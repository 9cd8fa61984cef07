package postgres

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	descAcquired = prometheus.NewDesc("db_pool_acquired_conns", "Connections in use.", []string{"pool"}, nil)
	descIdle     = prometheus.NewDesc("db_pool_idle_conns", "Idle connections.", []string{"pool"}, nil)
	descTotal    = prometheus.NewDesc("db_pool_total_conns", "Open connections.", []string{"pool"}, nil)
	descMax      = prometheus.NewDesc("db_pool_max_conns", "Connection limit.", []string{"pool"}, nil)
	descWaits    = prometheus.NewDesc("db_pool_empty_acquire_total", "Acquires that had to wait for a connection.", []string{"pool"}, nil)
	descWaitSecs = prometheus.NewDesc("db_pool_acquire_wait_seconds_total", "Time spent waiting for a connection.", []string{"pool"}, nil)
)

// poolCollector exports pgxpool statistics of every pool at scrape time.
type poolCollector struct {
	pools map[string]*pgxpool.Pool
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAcquired, descIdle, descTotal, descMax, descWaits, descWaitSecs} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for name, p := range c.pools {
		s := p.Stat()
		ch <- prometheus.MustNewConstMetric(descAcquired, prometheus.GaugeValue, float64(s.AcquiredConns()), name)
		ch <- prometheus.MustNewConstMetric(descIdle, prometheus.GaugeValue, float64(s.IdleConns()), name)
		ch <- prometheus.MustNewConstMetric(descTotal, prometheus.GaugeValue, float64(s.TotalConns()), name)
		ch <- prometheus.MustNewConstMetric(descMax, prometheus.GaugeValue, float64(s.MaxConns()), name)
		ch <- prometheus.MustNewConstMetric(descWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(descWaitSecs, prometheus.CounterValue, s.EmptyAcquireWaitTime().Seconds(), name)
	}
}
