package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/scalestack/scalestack/app/internal/consistency"
)

// Run checks the replicas every CheckInterval until ctx ends.
func (db *DB) Run(ctx context.Context) {
	if len(db.replicas) == 0 {
		return
	}
	t := time.NewTicker(db.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			db.checkReplicas(ctx)
		}
	}
}

type lsnSample struct {
	at  time.Time
	lsn consistency.LSN
}

// lagOf returns how long ago the primary had written WAL that the replica has
// not replayed yet: the age of the oldest sample beyond replay. It measures
// real staleness without trusting replay timestamps, which stand still on an
// idle primary.
func lagOf(samples []lsnSample, replay consistency.LSN, now time.Time) time.Duration {
	for _, s := range samples {
		if s.lsn > replay {
			return now.Sub(s.at)
		}
	}
	return 0
}

func (db *DB) checkReplicas(ctx context.Context) {
	if len(db.replicas) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, max(db.interval, 500*time.Millisecond))
	defer cancel()
	now := time.Now()
	var primary consistency.LSN
	if err := scanLSN(db.writer.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text"), &primary); err == nil {
		db.mu.Lock()
		db.samples = append(db.samples, lsnSample{now, primary})
		// Keep enough history to measure lags a little beyond the bound.
		for len(db.samples) > 1 && now.Sub(db.samples[1].at) > 2*db.maxLag+db.interval {
			db.samples = db.samples[1:]
		}
		db.mu.Unlock()
	}
	db.mu.Lock()
	samples := append([]lsnSample(nil), db.samples...)
	db.mu.Unlock()

	for _, r := range db.replicas {
		var inRecovery bool
		var replayText string
		err := r.pool.QueryRow(ctx, "SELECT pg_is_in_recovery(), COALESCE(pg_last_wal_replay_lsn()::text, '0/0')").Scan(&inRecovery, &replayText)
		replay, perr := consistency.ParseLSN(replayText)
		if err == nil {
			err = perr
		}
		var healthy bool
		var reason string
		switch {
		case err != nil:
			reason = err.Error()
		case !inRecovery:
			reason = "not in recovery (promoted?)"
		default:
			r.replay.Store(uint64(replay))
			lag := lagOf(samples, replay, time.Now())
			r.lagG.Set(lag.Seconds())
			healthy = lag <= db.maxLag
			if !healthy {
				reason = fmt.Sprintf("lag %s beyond %s", lag.Round(time.Millisecond), db.maxLag)
			}
		}
		if was := r.healthy.Swap(healthy); was != healthy {
			if healthy {
				db.log.Info("replica back in rotation", "replica", r.name)
			} else {
				db.log.Warn("replica out of rotation", "replica", r.name, "reason", reason)
			}
		}
		if healthy {
			r.healthG.Set(1)
		} else {
			r.healthG.Set(0)
		}
	}
}

// pickReplica returns the next healthy replica, round-robin, that has replayed
// the token in ctx; nil means "use the primary".
func (db *DB) pickReplica(ctx context.Context) *replica {
	n := len(db.replicas)
	if n == 0 {
		return nil
	}
	token := consistency.MinLSN(ctx)
	start := db.next.Add(1)
	var behind *replica
	for i := range n {
		r := db.replicas[(start+uint64(i))%uint64(n)]
		if !r.healthy.Load() {
			continue
		}
		if consistency.LSN(r.replay.Load()) >= token {
			return r
		}
		if behind == nil {
			behind = r
		}
	}
	if behind == nil {
		return nil
	}
	// The last check may be older than the write: ask the replica itself.
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	var replay consistency.LSN
	if err := scanLSN(behind.pool.QueryRow(cctx, "SELECT COALESCE(pg_last_wal_replay_lsn()::text, '0/0')"), &replay); err != nil {
		return nil
	}
	behind.replay.Store(uint64(replay))
	if replay >= token {
		return behind
	}
	return nil
}
