//! Issue 17: the claims that let several instances share one database, on both backends. A
//! claim is exclusive until released or expired; a dead instance's claims pass to another;
//! a source is scanned once per due time; the cluster's politeness holds per host.

mod support;

use chrono::{DateTime, Duration, Utc};
use newswatch::model::{DigestRecord, InstanceId, SourceName, WatchlistName};
use newswatch::store::{DigestClaim, HostBlock, HostRules, HostTurn, Instance, SourceDue, Store};
use support::name;

fn id(n: u32) -> InstanceId {
    InstanceId::new("test", n, n)
}

async fn register(store: &Store, n: u32, now: DateTime<Utc>) -> InstanceId {
    let me = Instance {
        id: id(n),
        host: "test".into(),
        pid: n,
        started_at: now,
        seen_at: now,
    };
    store.register_instance(&me).await.unwrap();
    me.id
}

fn secs(n: i64) -> Duration {
    Duration::seconds(n)
}

/// What `me` claims at `at` (up to 10 sources), its lease until `until`.
async fn claim(
    store: &Store,
    me: &InstanceId,
    at: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<SourceName> {
    store.claim_due_sources(me, at, until, 10).await.unwrap()
}

/// Two instances, both configured with the sources `names`, all due at `t0`.
async fn two_with_sources(
    store: &Store,
    names: &[&str],
    t0: DateTime<Utc>,
) -> (InstanceId, InstanceId) {
    let (a, b) = (register(store, 1, t0).await, register(store, 2, t0).await);
    let due: Vec<SourceDue> = names
        .iter()
        .map(|n| SourceDue {
            name: name(n),
            at: t0,
        })
        .collect();
    for me in [&a, &b] {
        store
            .sync_sources(me, &due, t0, t0 - secs(60))
            .await
            .unwrap();
    }
    (a, b)
}

#[tokio::test]
async fn a_due_source_is_one_instance_s_until_released_or_expired() {
    for (_dir, store) in support::backends().await {
        let t0 = Utc::now();
        let (a, b) = two_with_sources(&store, &["s1", "s2", "s3"], t0).await;

        let got_a = store
            .claim_due_sources(&a, t0, t0 + secs(60), 2)
            .await
            .unwrap();
        assert_eq!(got_a.len(), 2, "{got_a:?}");
        let got_b = claim(&store, &b, t0, t0 + secs(60)).await;
        assert_eq!(got_b.len(), 1, "only the one A left: {got_b:?}");
        assert!(!got_a.contains(&got_b[0]));
        assert!(claim(&store, &b, t0, t0 + secs(60)).await.is_empty());

        // A finishes one: due again in 15 minutes, not before.
        let done = &got_a[0];
        assert!(store.finish_source(done, &a, t0 + secs(900)).await.unwrap());
        assert!(claim(&store, &b, t0 + secs(30), t0 + secs(90))
            .await
            .is_empty());
        // A dies holding the other: its lease expires and B takes it over.
        let taken = claim(&store, &b, t0 + secs(61), t0 + secs(120)).await;
        // (B's own lease, not renewed in this test, has passed too.)
        assert!(taken.contains(&got_a[1]), "{taken:?}");
        // A, back from the dead, cannot finish what is no longer its.
        assert!(!store
            .finish_source(&got_a[1], &a, t0 + secs(900))
            .await
            .unwrap());
        // The next wake-up is B's lease end or the finished source's next time.
        let wake = store.next_source_wake(&b).await.unwrap().unwrap();
        assert!(wake <= t0 + secs(900));
        // At its next time, the finished source is due once more.
        let again = claim(&store, &b, t0 + secs(901), t0 + secs(960)).await;
        assert!(again.contains(done), "{again:?}");
    }
}

#[tokio::test]
async fn syncing_the_config_keeps_due_times_and_drops_removed_sources() {
    for (_dir, store) in support::backends().await {
        let t0 = Utc::now();
        let (a, b) = (register(&store, 1, t0).await, register(&store, 2, t0).await);
        let sync = |names: &[&str], at: DateTime<Utc>| -> Vec<SourceDue> {
            names
                .iter()
                .map(|n| SourceDue { name: name(n), at })
                .collect()
        };
        store
            .sync_sources(&a, &sync(&["kept", "gone"], t0), t0, t0 - secs(60))
            .await
            .unwrap();
        // A second instance syncs a little later with a later time: the earlier stays due.
        store
            .sync_sources(
                &b,
                &sync(&["kept"], t0 + secs(600)),
                t0 + secs(30),
                t0 - secs(30),
            )
            .await
            .unwrap();
        // A's config loses "gone" (a reload).
        store
            .sync_sources(&a, &sync(&["kept"], t0), t0 + secs(30), t0 - secs(30))
            .await
            .unwrap();
        let got = claim(&store, &a, t0 + secs(31), t0 + secs(90)).await;
        assert_eq!(
            got,
            [name::<SourceName>("kept")],
            "the removed source is never claimed"
        );
        assert!(claim(&store, &b, t0 + secs(31), t0 + secs(90))
            .await
            .is_empty());
        assert!(store
            .finish_source(&got[0], &a, t0 + secs(300))
            .await
            .unwrap());
        // Everyone was down past its time: a restart takes the next tick, not a catch-up.
        store
            .sync_sources(
                &a,
                &sync(&["kept"], t0 + secs(7200)),
                t0 + secs(3600),
                t0 + secs(3540),
            )
            .await
            .unwrap();
        assert!(claim(&store, &a, t0 + secs(3601), t0 + secs(3700))
            .await
            .is_empty());
        assert_eq!(
            claim(&store, &a, t0 + secs(7200), t0 + secs(7300))
                .await
                .len(),
            1
        );
    }
}

/// Issue 17 (B3): instances whose configs differ, as during a rolling config change. Each
/// claims only the sources its own config has; one instance's sync never hides a source
/// another instance still has.
#[tokio::test]
async fn issue_17_instances_with_differing_configs_claim_only_their_own_sources() {
    for (_dir, store) in support::backends().await {
        let t0 = Utc::now();
        let (a, b) = (register(&store, 1, t0).await, register(&store, 2, t0).await);
        let due = |names: &[&str]| -> Vec<SourceDue> {
            names
                .iter()
                .map(|n| SourceDue {
                    name: name(n),
                    at: t0,
                })
                .collect()
        };
        store
            .sync_sources(&a, &due(&["both", "a-only"]), t0, t0 - secs(60))
            .await
            .unwrap();
        store
            .sync_sources(&b, &due(&["both", "b-only"]), t0, t0 - secs(60))
            .await
            .unwrap();
        let mut got_a = claim(&store, &a, t0, t0 + secs(60)).await;
        got_a.sort();
        assert_eq!(
            got_a,
            [name::<SourceName>("a-only"), name("both")],
            "A never claims what only B's config has, and B's sync left A's source claimable"
        );
        let got_b = claim(&store, &b, t0, t0 + secs(60)).await;
        assert_eq!(got_b, [name::<SourceName>("b-only")]);
        // B's wake-up is about its own sources only.
        assert_eq!(
            store
                .next_source_wake(&b)
                .await
                .unwrap()
                .map(|t| t.timestamp()),
            Some((t0 + secs(60)).timestamp())
        );
        // Once A is gone, "a-only" is nobody's: B never claims it, even when it is due.
        assert!(store.finish_source(&name("a-only"), &a, t0).await.unwrap());
        store.forget_instance(&a, t0).await.unwrap();
        let mut later = claim(&store, &b, t0 + secs(61), t0 + secs(120)).await;
        later.sort();
        // (A's claim on "both" and B's own on "b-only", not renewed here, have expired.)
        assert_eq!(later, [name::<SourceName>("b-only"), name("both")]);
    }
}

#[tokio::test]
async fn a_digest_tick_and_a_delivery_are_each_claimed_once() {
    for (_dir, store) in support::backends().await {
        let t0 = Utc::now();
        let (a, b) = (register(&store, 1, t0).await, register(&store, 2, t0).await);
        let w: WatchlistName = name("niger");
        let tick = t0;
        let claim = |who: &InstanceId, now: DateTime<Utc>, tick: Option<DateTime<Utc>>| {
            let (store, w, who) = (&store, w.clone(), who.clone());
            async move {
                store
                    .claim_digest(&w, &who, now, now + secs(60), tick)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(claim(&a, t0, Some(tick)).await, DigestClaim::Claimed);
        assert_eq!(claim(&b, t0, Some(tick)).await, DigestClaim::Busy);
        store.release_digest(&w, &a, Some(tick)).await.unwrap();
        assert_eq!(
            claim(&b, t0, Some(tick)).await,
            DigestClaim::Composed,
            "that tick is composed"
        );
        assert_eq!(
            claim(&b, t0, Some(tick + secs(3600))).await,
            DigestClaim::Claimed
        );
        // Immediate digests claim without a tick: exclusive while held, then free.
        store.release_digest(&w, &b, None).await.unwrap();
        assert_eq!(claim(&a, t0, None).await, DigestClaim::Claimed);
        assert_eq!(claim(&b, t0, None).await, DigestClaim::Busy);
        assert_eq!(claim(&b, t0 + secs(61), None).await, DigestClaim::Claimed);

        let digest = DigestRecord {
            watchlist: w.clone(),
            message_id: "<m@x>".into(),
            subject: "s".into(),
            message: b"m".to_vec(),
            article_ids: Vec::new(),
            recipients: vec!["a@example.org".into()],
            health_seen: None,
        };
        store.record_digest(&digest, t0).await.unwrap();
        let d = store.due_deliveries(None).await.unwrap().remove(0);
        assert!(store
            .claim_delivery(&d, &a, t0, t0 + secs(60))
            .await
            .unwrap());
        assert!(!store
            .claim_delivery(&d, &b, t0, t0 + secs(60))
            .await
            .unwrap());
        // A dies after the server accepted, before marking it sent: B sends it again later,
        // with the same Message-ID (SPEC), once A's claim has passed.
        assert!(store
            .claim_delivery(&d, &b, t0 + secs(61), t0 + secs(120))
            .await
            .unwrap());
        store
            .mark_delivered(&d, "250 ok", t0 + secs(62))
            .await
            .unwrap();
        assert!(!store
            .claim_delivery(&d, &a, t0 + secs(200), t0 + secs(260))
            .await
            .unwrap());
        let leases = store.leases().await.unwrap();
        assert!(leases.iter().all(|l| l.kind != "delivery"), "{leases:?}");
    }
}

/// Issue 17 (B4): the instance composing a cron tick's digest dies half-way. The tick is not
/// lost: it is marked composed only by a composer that finished, so another instance
/// composes it once the dead one's claim has expired.
#[tokio::test]
async fn issue_17_a_tick_whose_composer_died_is_composed_by_another() {
    for (_dir, store) in support::backends().await {
        let t0 = Utc::now();
        let (a, b) = (register(&store, 1, t0).await, register(&store, 2, t0).await);
        let w: WatchlistName = name("daily");
        let tick = Some(t0);
        let claim = |who: &InstanceId, now: DateTime<Utc>| {
            let (store, w, who) = (&store, w.clone(), who.clone());
            async move {
                store
                    .claim_digest(&w, &who, now, now + secs(60), tick)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(claim(&a, t0).await, DigestClaim::Claimed);
        // A dies before recording anything. B tries while A's claim lasts, and after.
        assert_eq!(claim(&b, t0 + secs(5)).await, DigestClaim::Busy);
        assert_eq!(
            claim(&b, t0 + secs(61)).await,
            DigestClaim::Claimed,
            "the tick is still to be composed once A's claim expired"
        );
        store.release_digest(&w, &b, tick).await.unwrap();
        assert_eq!(claim(&a, t0 + secs(62)).await, DigestClaim::Composed);
        // A composer that failed (its database call did) gives the claim back unstamped.
        let next = Some(t0 + secs(3600));
        assert_eq!(
            store
                .claim_digest(&w, &a, t0 + secs(3600), t0 + secs(3660), next)
                .await
                .unwrap(),
            DigestClaim::Claimed
        );
        store.release_digest(&w, &a, None).await.unwrap();
        assert_eq!(
            store
                .claim_digest(&w, &b, t0 + secs(3601), t0 + secs(3661), next)
                .await
                .unwrap(),
            DigestClaim::Claimed
        );
    }
}

#[tokio::test]
async fn forgetting_an_instance_frees_what_it_held() {
    for (_dir, store) in support::backends().await {
        let t0 = Utc::now();
        let (a, b) = two_with_sources(&store, &["s"], t0).await;
        assert_eq!(
            store
                .claim_due_sources(&a, t0, t0 + secs(60), 1)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(store.leases().await.unwrap().len(), 1);
        store.forget_instance(&a, t0).await.unwrap();
        assert_eq!(
            store
                .claim_due_sources(&b, t0, t0 + secs(60), 1)
                .await
                .unwrap()
                .len(),
            1
        );
        let ids: Vec<InstanceId> = store
            .instances()
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(ids, std::slice::from_ref(&b));
        // A heartbeat renews what b holds.
        store
            .heartbeat(&b, t0 + secs(30), t0 + secs(90))
            .await
            .unwrap();
        let l = store.leases().await.unwrap();
        assert_eq!(l[0].until.timestamp(), (t0 + secs(90)).timestamp());
    }
}

#[tokio::test]
async fn the_cluster_keeps_a_host_s_concurrency_delay_and_blocks() {
    for (_dir, store) in support::backends().await {
        let t0 = Utc::now();
        let (a, b) = (register(&store, 1, t0).await, register(&store, 2, t0).await);
        let rules = HostRules {
            concurrency: 1,
            delay: Duration::milliseconds(500),
        };
        let turn = store
            .reserve_host("h:80", &a, rules, t0, t0 + secs(30))
            .await
            .unwrap();
        let HostTurn::Go { slot, start_at } = turn else {
            panic!("{turn:?}")
        };
        assert_eq!(start_at.timestamp_millis(), t0.timestamp_millis());
        assert_eq!(
            store
                .reserve_host("h:80", &b, rules, t0, t0 + secs(30))
                .await
                .unwrap(),
            HostTurn::Busy,
            "one request in flight for the whole cluster"
        );
        store.release_host("h:80", slot, &a).await.unwrap();
        let turn = store
            .reserve_host("h:80", &b, rules, t0, t0 + secs(30))
            .await
            .unwrap();
        let HostTurn::Go { start_at, slot } = turn else {
            panic!("{turn:?}")
        };
        assert_eq!(
            start_at.timestamp_millis(),
            (t0 + Duration::milliseconds(500)).timestamp_millis(),
            "starts a delay apart"
        );
        store.release_host("h:80", slot, &b).await.unwrap();
        // Two slots: both instances at once.
        let two = HostRules {
            concurrency: 2,
            delay: Duration::zero(),
        };
        assert!(matches!(
            store
                .reserve_host("g:80", &a, two, t0, t0 + secs(30))
                .await
                .unwrap(),
            HostTurn::Go { .. }
        ));
        assert!(matches!(
            store
                .reserve_host("g:80", &b, two, t0, t0 + secs(30))
                .await
                .unwrap(),
            HostTurn::Go { .. }
        ));
        assert_eq!(
            store
                .reserve_host("g:80", &b, two, t0, t0 + secs(30))
                .await
                .unwrap(),
            HostTurn::Busy
        );
        // A slot of a dead instance is free again after its lease.
        assert!(matches!(
            store
                .reserve_host("g:80", &b, two, t0 + secs(31), t0 + secs(60))
                .await
                .unwrap(),
            HostTurn::Go { .. }
        ));
        // A Retry-After seen by one instance holds for all.
        let block = HostBlock {
            until: t0 + secs(120),
            status: Some(429),
            asked: true,
            reason: "429 Too Many Requests".into(),
        };
        store.block_host("h:80", &block).await.unwrap();
        match store
            .reserve_host("h:80", &a, rules, t0 + secs(60), t0 + secs(90))
            .await
            .unwrap()
        {
            HostTurn::Blocked(b) => {
                assert_eq!(b.status, Some(429));
                assert!(b.asked);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            store
                .reserve_host("h:80", &a, rules, t0 + secs(121), t0 + secs(150))
                .await
                .unwrap(),
            HostTurn::Go { .. }
        ));
    }
}

/// Issue 17 (B3): a reload drops a source while it is being scanned. When the scan ends, its
/// claim is given back — not kept, and renewed by every heartbeat, for ever — so an instance
/// that still has the source can scan it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_17_a_source_dropped_mid_scan_is_released() {
    use newswatch::config::Config;
    use newswatch::daemon::{self, Control};
    use std::sync::Arc;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let site = MockServer::start().await;
    let feed = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
                <link>http://example.org/</link><description>d</description></channel></rss>";
    for (p, delay) in [("/slow.xml", 3), ("/fast.xml", 0)] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_raw(feed, "application/rss+xml")
                    .set_delay(std::time::Duration::from_secs(delay)),
            )
            .mount(&site)
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("newswatch.toml");
    let write = |sources: &[&str]| {
        let mut text = format!(
            "state_dir = \"{}\"\n[http]\nper_host_delay_ms = 0\nrespect_robots = false\n\
             [mail]\ntransport = \"file\"\n",
            dir.path().join("state").display()
        );
        for s in sources {
            text.push_str(&format!(
                "[[source]]\nname = \"{s}\"\nurl = \"{}/{s}.xml\"\nschedule = \"0 0 * * *\"\n",
                site.uri()
            ));
        }
        text.push_str(
            "[[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\n",
        );
        std::fs::write(&file, text).unwrap();
    };
    write(&["slow", "fast"]);
    let config = Config::load(&file).unwrap();
    let store = Arc::new(Store::open(&config.database_path()).unwrap());
    let loader: daemon::Loader = {
        let file = file.clone();
        Arc::new(move || Config::load(&file))
    };
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let running = tokio::spawn(daemon::run(
        Arc::new(config),
        Arc::clone(&store),
        loader,
        rx,
    ));
    let asked = |p: &'static str| {
        let site = &site;
        async move {
            site.received_requests()
                .await
                .unwrap_or_default()
                .iter()
                .any(|r| r.url.path() == p)
        }
    };
    let t = std::time::Instant::now();
    while !asked("/slow.xml").await {
        assert!(
            t.elapsed().as_secs() < 20,
            "the slow source is never scanned"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let held = |leases: &[newswatch::store::Lease]| {
        leases
            .iter()
            .any(|l| l.kind == "source" && l.what == "slow")
    };
    assert!(
        held(&store.leases().await.unwrap()),
        "claimed while scanned"
    );
    write(&["fast"]);
    tx.send(Control::Reload).await.unwrap();
    // The scan ends 3 s after it began; the heartbeat (every 20 s) must not keep its claim.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let leases = store.leases().await.unwrap();
    assert!(!held(&leases), "the claim outlived its scan: {leases:?}");
    tx.send(Control::Shutdown).await.unwrap();
    running.await.unwrap().unwrap();
}

/// Issue 17: `status` shows which instance holds what and when each was last seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_instances_and_what_they_hold() {
    let url = support::pg::cluster().fresh_db().await;
    let store = Store::open_postgres(&url, None).await.unwrap();
    let t0 = Utc::now();
    let me = Instance {
        id: InstanceId::new("box-a", 4242, 7),
        host: "box-a".into(),
        pid: 4242,
        started_at: t0 - secs(3600),
        seen_at: t0,
    };
    store.register_instance(&me).await.unwrap();
    let idle = register(&store, 9, t0).await;
    let due = [SourceDue {
        name: name("wire"),
        at: t0,
    }];
    store
        .sync_sources(&me.id, &due, t0, t0 - secs(60))
        .await
        .unwrap();
    let got = store
        .claim_due_sources(&me.id, t0, t0 + secs(60), 10)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let w: WatchlistName = name("niger");
    let claimed = store
        .claim_digest(&w, &me.id, t0, t0 + secs(60), None)
        .await
        .unwrap();
    assert_eq!(claimed, DigestClaim::Claimed);

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("newswatch.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{}\"\ntimezone = \"UTC\"\n[database]\nurl = \"{url}\"\n\
             [[source]]\nname = \"wire\"\nurl = \"http://127.0.0.1:9/feed.xml\"\n\
             [[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\n",
            dir.path().join("state").display()
        ),
    )
    .unwrap();
    let status = |json: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_newswatch"));
        cmd.arg("--config").arg(&config).arg("status");
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = status(false);
    assert!(
        text.contains(&format!("instances (postgresql {url}):")),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.contains(me.id.as_str()))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("pid 4242 on box-a"), "{line}");
    assert!(
        line.contains(&format!("last seen {}", t0.format("%Y-%m-%d %H:%M:%S UTC"))),
        "{line}"
    );
    assert!(line.contains("holds source wire, digest niger"), "{line}");
    let other = text.lines().find(|l| l.contains(idle.as_str())).unwrap();
    assert!(other.contains("holds nothing"), "{other}");

    let json: serde_json::Value = serde_json::from_str(&status(true)).unwrap();
    let instances = json["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 2, "{json}");
    assert_eq!(instances[0]["id"], me.id.as_str(), "oldest first");
    assert_eq!(instances[0]["pid"], 4242);
    let leases = json["leases"].as_array().unwrap();
    let held: Vec<(&str, &str, &str)> = leases
        .iter()
        .map(|l| {
            (
                l["holder"].as_str().unwrap(),
                l["kind"].as_str().unwrap(),
                l["what"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        held,
        [
            (me.id.as_str(), "source", "wire"),
            (me.id.as_str(), "digest", "niger")
        ]
    );
}

/// Issue 17 (B4), end to end: another instance holds the claim on composing a watchlist's
/// digest and dies. The daemon's mail task, finding it busy, keeps the digest owed and tries
/// again: once the dead instance's claim has expired the digest is composed and mailed —
/// not left until some later scan happens to find something new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_17_a_digest_held_by_a_dead_instance_is_composed_after_its_lease() {
    use newswatch::config::Config;
    use newswatch::daemon::{self, Control};
    use std::sync::Arc;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let site = MockServer::start().await;
    let feed = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
         <link>http://example.org/</link><description>d</description>\
         <item><title>Niger: the withdrawal</title><link>{}/a/1.html</link>\
         <description>Troops leave Niger.</description><pubDate>{}</pubDate></item>\
         </channel></rss>",
        site.uri(),
        Utc::now().to_rfc2822()
    );
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(feed, "application/rss+xml"))
        .mount(&site)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("newswatch.toml");
    std::fs::write(
        &file,
        format!(
            "state_dir = \"{}\"\n[http]\nper_host_delay_ms = 0\nrespect_robots = false\n\
             [mail]\ntransport = \"file\"\n\
             [[source]]\nname = \"wire\"\nurl = \"{}/feed.xml\"\nfollow = false\n\
             schedule = \"0 0 * * *\"\nbackfill = \"all\"\n\
             [[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\n\
             digest = \"immediate\"\n",
            dir.path().join("state").display(),
            site.uri()
        ),
    )
    .unwrap();
    let config = Config::load(&file).unwrap();
    let outbox = config.outbox_dir();
    let store = Arc::new(Store::open(&config.database_path()).unwrap());
    // The other instance claims the digest, then dies holding it.
    let t0 = Utc::now();
    let dead = register(&store, 99, t0).await;
    let held_until = t0 + Duration::seconds(4);
    let w: WatchlistName = name("niger");
    assert_eq!(
        store
            .claim_digest(&w, &dead, t0, held_until, None)
            .await
            .unwrap(),
        DigestClaim::Claimed
    );
    let loader: daemon::Loader = {
        let file = file.clone();
        Arc::new(move || Config::load(&file))
    };
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let running = tokio::spawn(daemon::run(
        Arc::new(config),
        Arc::clone(&store),
        loader,
        rx,
    ));
    let mailed = || std::fs::read_dir(&outbox).map_or(0, |d| d.filter_map(Result::ok).count());
    let t = std::time::Instant::now();
    while mailed() == 0 {
        assert!(
            t.elapsed().as_secs() < 30,
            "the digest the dead instance held is never composed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        Utc::now() >= held_until,
        "composed while the other instance's claim still held"
    );
    tx.send(Control::Shutdown).await.unwrap();
    running.await.unwrap().unwrap();
    assert_eq!(mailed(), 1, "one digest, one recipient");
}

#[tokio::test]
async fn a_scan_s_record_gives_its_claim_back_in_the_same_transaction() {
    use newswatch::model::{SourceState, Validators};
    use newswatch::store::{FetchFailure, FetchSuccess, Release};
    let src = |s: &str| -> SourceName { name(s) };
    for (_dir, store) in support::backends().await {
        let t0 = Utc::now();
        let (a, b) = two_with_sources(&store, &["s1", "s2"], t0).await;
        let mut got = store
            .claim_due_sources(&a, t0, t0 + secs(60), 2)
            .await
            .unwrap();
        got.sort();
        assert_eq!(got, [src("s1"), src("s2")]);
        // The next due time is computed from the state the record leaves: here, one
        // minute after the failures recorded so far, in minutes.
        let next_due = |s: &SourceState| t0 + secs(600 + 60 * i64::from(s.consecutive_failures));
        let release = Release {
            me: &a,
            next_due: &next_due,
        };
        let read = FetchSuccess {
            validators: Validators::default(),
            status: 200,
            refetch_floor: None,
        };
        let r = store
            .record_read(&name("s1"), &[], &read, t0, Some(&release))
            .await
            .unwrap();
        assert_eq!(r.released, Some(true));
        let failure = FetchFailure {
            message: "503".into(),
            status: Some(503),
            retry_at: t0 + secs(60),
        };
        let (_, released) = store
            .record_failure_then(&name("s2"), &failure, t0, Some(&release))
            .await
            .unwrap();
        assert_eq!(released, Some(true));
        // Both are free, due at the times computed from what was just recorded.
        assert!(claim(&store, &b, t0 + secs(599), t0 + secs(700))
            .await
            .is_empty());
        assert_eq!(
            claim(&store, &b, t0 + secs(600), t0 + secs(700)).await,
            [src("s1")]
        );
        assert_eq!(
            claim(&store, &b, t0 + secs(660), t0 + secs(720)).await,
            [src("s2")],
            "one failure: a minute later"
        );
        // A record by an instance whose claim passed to another: recorded, not released.
        let r = store
            .record_read(&name("s1"), &[], &read, t0 + secs(661), Some(&release))
            .await
            .unwrap();
        assert_eq!(r.released, Some(false));
        assert!(
            claim(&store, &a, t0 + secs(662), t0 + secs(722))
                .await
                .is_empty(),
            "still B's"
        );
        // Without a release nothing is said about the claim.
        let r = store
            .record_read(&name("s1"), &[], &read, t0 + secs(663), None)
            .await
            .unwrap();
        assert_eq!(r.released, None);
    }
}
