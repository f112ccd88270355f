//! The cluster's politeness (issue 17) over the shared database: `fetch`'s [`Ledger`]
//! answered by `store`'s per-host rows, so `per_host_concurrency`, `per_host_delay` and a
//! host's `Retry-After` or cool-down hold for all instances together. This module is the
//! glue between the two, which do not know each other.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::future::BoxFuture;
use futures_util::FutureExt as _;
use tracing::debug;

use crate::fetch::politeness::{Ledger, Turn};
use crate::model::InstanceId;
use crate::store::{HostBlock, HostRules, HostTurn, Store};

/// [`Ledger`] over the store, for one instance.
#[derive(Debug)]
pub struct StoreLedger {
    store: Arc<Store>,
    me: InstanceId,
    /// How long a request slot is held unless given back: the instance's lease (its
    /// heartbeat renews the slots it holds), so a dead instance's slots are free soon.
    slot_lease: Duration,
}

impl StoreLedger {
    #[must_use]
    pub fn new(store: Arc<Store>, me: InstanceId, slot_lease: Duration) -> StoreLedger {
        StoreLedger {
            store,
            me,
            slot_lease,
        }
    }
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
}

impl Ledger for StoreLedger {
    fn turn<'a>(
        &'a self,
        host: &'a str,
        concurrency: usize,
        delay: Duration,
    ) -> BoxFuture<'a, Turn> {
        async move {
            let now = Utc::now();
            let rules = HostRules {
                concurrency: u32::try_from(concurrency).unwrap_or(u32::MAX),
                delay: chrono_of(delay),
            };
            match self
                .store
                .reserve_host(host, &self.me, rules, now, now + chrono_of(self.slot_lease))
                .await
            {
                Ok(HostTurn::Go { slot, start_at }) => Turn::Go {
                    slot,
                    wait: (start_at - Utc::now()).to_std().unwrap_or_default(),
                },
                Ok(HostTurn::Busy) => Turn::Busy,
                Ok(HostTurn::Blocked(b)) => Turn::Blocked {
                    left: (b.until - Utc::now()).to_std().unwrap_or_default(),
                    status: b.status,
                    asked: b.asked,
                    reason: b.reason,
                },
                Err(e) => Turn::Unavailable(e.to_string()),
            }
        }
        .boxed()
    }

    fn done(&self, host: &str, slot: u32) {
        let (store, me, host) = (Arc::clone(&self.store), self.me.clone(), host.to_owned());
        tokio::spawn(async move {
            if let Err(e) = store.release_host(&host, slot, &me).await {
                // The slot's lease runs out by itself.
                debug!(host = %host, error = %e, "could not give back a request slot");
            }
        });
    }

    fn block(&self, host: &str, left: Duration, status: Option<u16>, asked: bool, reason: &str) {
        let block = HostBlock {
            until: Utc::now() + chrono_of(left),
            status,
            asked,
            reason: reason.to_owned(),
        };
        let (store, host) = (Arc::clone(&self.store), host.to_owned());
        tokio::spawn(async move {
            if let Err(e) = store.block_host(&host, &block).await {
                debug!(host = %host, error = %e, "could not tell the cluster to leave a host alone");
            }
        });
    }
}
