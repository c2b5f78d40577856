//! The dispatcher's heartbeat: records the node's load, renews its leases (stopping sessions it
//! lost or that were cancelled on another node), counts the live dispatching nodes (they split
//! each target's rate limit) and claims offered or abandoned sessions while it has room.

use actix::prelude::*;
use uuid::Uuid;

use super::dispatcher::Dispatcher;
use super::leases::{NodeRole, Renewal};
use super::nodes::NodeLoad;
use super::session_actor::StopSession;

/// What one heartbeat found in the database.
struct Beat {
    renewal: Renewal,
    claimable: Vec<Uuid>,
    /// Dispatching nodes alive on the database, this one included.
    peers: usize,
}

impl Dispatcher {
    pub(super) fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        if self.beating {
            return;
        }
        self.beating = true;
        let leases = self.leases.clone();
        let running: Vec<Uuid> = self.running.keys().copied().collect();
        let load = NodeLoad {
            role: self.settings.role,
            started_at_ms: self.started_at_ms,
            running: running.len(),
            max_concurrent: self.settings.max_concurrent,
        };
        let room = if self.dispatching() && self.settings.recover {
            self.settings
                .max_concurrent
                .saturating_sub(self.running.len() + self.queue.len())
        } else {
            0
        };
        let beat = async move {
            leases.heartbeat(load).await?;
            let renewal = leases.renew(&running).await?;
            let peers = leases
                .nodes()
                .await?
                .iter()
                .filter(|n| !n.stale && n.role != NodeRole::ServeNoDispatch)
                .count();
            let claimable = if room > 0 {
                leases.claimable(room).await?
            } else {
                Vec::new()
            };
            Ok::<_, crate::store::StoreError>(Beat {
                renewal,
                claimable,
                peers,
            })
        };
        ctx.spawn(beat.into_actor(self).map(|result, act, ctx| {
            act.beating = false;
            match result {
                Ok(beat) => act.apply_beat(beat, ctx),
                Err(error) => tracing::warn!(%error, "heartbeat failed; leases not renewed"),
            }
        }));
    }

    fn apply_beat(&mut self, beat: Beat, ctx: &mut Context<Self>) {
        if self.dispatching() {
            self.node.set_peers(beat.peers);
        }
        for id in &beat.renewal.lost {
            tracing::warn!(session = %id, "lease taken by another node; stopping the session here");
            self.stop_local(*id);
        }
        for id in &beat.renewal.cancel_requested {
            self.stop_local(*id);
        }
        for id in beat.claimable {
            if !self.queue.contains(&id) && !self.running.contains_key(&id) {
                self.queue.push_back(id);
            }
        }
        self.pump(ctx);
    }

    fn stop_local(&mut self, id: Uuid) {
        if let Some(Some(addr)) = self.running.get(&id) {
            addr.do_send(StopSession);
        }
    }
}
