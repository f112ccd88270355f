//! Issue 22: links from feeds cannot reach inside. A feed on 127.0.0.1 (a configured source
//! host, so allowed) links to an "internal" server on 127.0.0.3, to a redirect into it, and to
//! one on [::1]; its robots.txt redirects into 127.0.0.3 too. Without the opt-in the internal
//! servers receive no request at all and the scan says why once per link; with
//! `allow_private_networks = true` they are fetched and matched. A name that resolves to a
//! private address (through a resolver hook, not /etc/hosts) is refused the same way.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use newswatch::fetch::{FailureKind, FetchOutcome, FetchSettings, Fetcher, NetworkPolicy};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use support::cli;
use support::config::{self, ConfigFile};
use support::feeds::{rss, Item};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A readable article page whose text names Agadez (the feed items do not).
fn article(title: &str) -> String {
    let para = "Officials in Agadez said the convoy left the base at dawn and reached the \
                border by nightfall, according to people familiar with the plans who spoke on \
                condition of anonymity because they were not authorised to talk to the press.";
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><title>{title}</title></head><body><article>\
         <h1>{title}</h1><p>{para}</p><p>{para}</p><p>{para}</p><p>{para}</p></article></body></html>"
    )
}

/// A feed linking to `links`, item by item.
fn feed_linking(links: &[String]) -> String {
    let items: Vec<Item> = links
        .iter()
        .enumerate()
        .map(|(i, link)| Item::new(format!("Item {i}"), link.as_str(), "see the page"))
        .collect();
    rss(&items)
}

/// A server on `addr` (port 0) answering every request with an article page.
async fn internal(addr: &str, title: &str) -> MockServer {
    let listener = std::net::TcpListener::bind(addr).expect("bind internal server");
    let server = MockServer::builder().listener(listener).start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(article(title).into_bytes(), "text/html"),
        )
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

struct Site {
    feed: MockServer,
    v4: MockServer,
    v6: MockServer,
    links: Vec<String>,
}

async fn site() -> Site {
    let v4 = internal("127.0.0.3:0", "Admin page").await;
    let v6 = internal("[::1]:0", "IPv6 page").await;
    let feed = MockServer::start().await;
    assert!(
        feed.uri().starts_with("http://127.0.0.1:"),
        "{}",
        feed.uri()
    );
    let links = vec![
        format!("{}/internal/admin.html", v4.uri()),
        format!("{}/go", feed.uri()),
        format!("{}/internal/v6.html", v6.uri()),
    ];
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(feed_linking(&links).into_bytes(), "application/rss+xml"),
        )
        .mount(&feed)
        .await;
    let redirect = |to: String| ResponseTemplate::new(302).insert_header("Location", to);
    Mock::given(method("GET"))
        .and(path("/go"))
        .respond_with(redirect(format!("{}/internal/other.html", v4.uri())))
        .mount(&feed)
        .await;
    Mock::given(method("GET"))
        .and(path("/robots.txt"))
        .respond_with(redirect(format!("{}/robots.txt", v4.uri())))
        .mount(&feed)
        .await;
    Site {
        feed,
        v4,
        v6,
        links,
    }
}

fn config(dir: &std::path::Path, feed: &str, allow: Option<bool>) -> std::path::PathBuf {
    let mut http = config::http()
        .set("timeout_secs", 5)
        .set("respect_robots", true);
    if let Some(a) = allow {
        http = http.set("allow_private_networks", a);
    }
    ConfigFile::in_dir(dir)
        .with(http)
        .with(config::backfill_all())
        .with(config::source("wire", &format!("{feed}/feed.xml")))
        .with(config::watchlist("agadez", &["Agadez"]))
        .write_in(dir)
}

/// `newswatch scan --json`, logging at info: exit code, stdout, stderr.
fn scan(config: &std::path::Path) -> (i32, String, String) {
    let out = cli::output(
        cli::with_config(config, &["scan", "--json"]).env("RUST_LOG", "newswatch=info"),
    );
    (out.code.unwrap_or(-1), out.stdout, out.stderr)
}

fn matches(stdout: &str) -> Vec<serde_json::Value> {
    cli::json_lines(stdout)
        .into_iter()
        .filter(|l| l.get("watchlist").is_some())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn links_into_private_networks_are_never_requested_by_default() {
    let site = site().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &site.feed.uri(), None);

    let (code, out, err) = scan(&cfg);
    assert_eq!(code, 0, "the source itself was read: {out}\n{err}");
    assert_eq!(
        requests(&site.v4).await,
        0,
        "127.0.0.3 got a request:\n{err}"
    );
    assert_eq!(requests(&site.v6).await, 0, "[::1] got a request:\n{err}");
    assert!(matches(&out).is_empty(), "internal text was matched: {out}");
    // Each refused link is logged once, with the reason.
    for (link, reason) in site.links.iter().zip([
        "127.0.0.3 is a loopback address;",
        "127.0.0.3 is a loopback address;",
        "[::1] is a loopback address;",
    ]) {
        let lines: Vec<&str> = err.lines().filter(|l| l.contains(link.as_str())).collect();
        assert_eq!(lines.len(), 1, "{link} logged once: {err}");
        assert!(lines[0].contains(reason), "{link}: {}", lines[0]);
        assert!(lines[0].contains("allow_private_networks"), "{}", lines[0]);
    }
    // The feed's own host (named in the config) was read, robots.txt redirect and all.
    assert!(requests(&site.feed).await >= 2);

    // A permanent failure for the article: the next scan does not try again.
    let (code, out, err) = scan(&cfg);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        !err.contains("not requested"),
        "refused links are not retried: {err}"
    );
    assert_eq!(requests(&site.v4).await + requests(&site.v6).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_opt_in_private_links_are_followed() {
    let site = site().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &site.feed.uri(), Some(true));

    let (code, out, err) = scan(&cfg);
    assert_eq!(code, 0, "{out}\n{err}");
    let found = matches(&out);
    let titles: Vec<&str> = found.iter().filter_map(|m| m["title"].as_str()).collect();
    assert_eq!(
        found.len(),
        3,
        "every linked page was read and matched: {out}\n{err}"
    );
    for title in ["Admin page", "IPv6 page"] {
        assert!(titles.contains(&title), "{title} in {titles:?}");
    }
    assert!(
        requests(&site.v4).await >= 2,
        "admin page and the redirect target"
    );
    assert!(requests(&site.v6).await >= 1);
    assert!(!err.contains("not requested"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_explicit_false_is_the_default() {
    let site = site().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = scan(&config(dir.path(), &site.feed.uri(), Some(false)));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(matches(&out).is_empty(), "{out}");
    assert_eq!(requests(&site.v4).await + requests(&site.v6).await, 0);
}

/// Answers names from a table, like a DNS server the test controls.
#[derive(Debug)]
struct TableResolver(Vec<(&'static str, SocketAddr)>);

impl Resolve for TableResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let found: Vec<SocketAddr> = self
            .0
            .iter()
            .filter(|(n, _)| *n == name.as_str())
            .map(|(_, a)| *a)
            .collect();
        Box::pin(async move {
            if found.is_empty() {
                return Err("no such name in the test's table".into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

fn fetcher(trusted: &[&str], allow: bool) -> Fetcher {
    let mut network = NetworkPolicy {
        allow_private_networks: allow,
        ..NetworkPolicy::default()
    };
    for t in trusted {
        network.trust_url(&Url::parse(t).unwrap());
    }
    let settings = FetchSettings {
        per_host_delay: std::time::Duration::ZERO,
        network,
        ..FetchSettings::default()
    };
    let resolver = TableResolver(vec![
        ("feed.test", "127.0.0.1:0".parse().unwrap()),
        ("internal.test", "127.0.0.3:0".parse().unwrap()),
    ]);
    Fetcher::with_resolver(settings, Arc::new(resolver)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_resolving_to_a_private_address_is_refused_after_dns() {
    let inside = internal("127.0.0.3:0", "Admin page").await;
    let port = inside.address().port();
    let feed = MockServer::start().await;
    let feed_port = feed.address().port();
    Mock::given(method("GET"))
        .and(path("/page"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(article("Feed page"), "text/html"))
        .mount(&feed)
        .await;
    Mock::given(method("GET"))
        .and(path("/hop"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "Location",
            format!("http://internal.test:{port}/x").as_str(),
        ))
        .mount(&feed)
        .await;
    let url = |s: String| Url::parse(&s).unwrap();
    let f = fetcher(&[&format!("http://feed.test:{feed_port}/feed.xml")], false);

    // The trusted name resolves to loopback and is read.
    let page = f
        .fetch(&url(format!("http://feed.test:{feed_port}/page")), None)
        .await;
    assert!(matches!(page, FetchOutcome::Fetched(_)), "{page:?}");

    // The untrusted name resolves to 127.0.0.3: refused, permanently, before connecting.
    for target in [
        format!("http://internal.test:{port}/x"),
        format!("http://feed.test:{feed_port}/hop"),
    ] {
        match f.fetch(&url(target.clone()), None).await {
            FetchOutcome::Failed(e) => {
                assert_eq!(e.kind, FailureKind::OffLimits, "{target}: {e:?}");
                assert!(e.kind.is_permanent());
                assert!(
                    e.message
                        .contains("internal.test resolves to 127.0.0.3, a loopback address;"),
                    "{target}: {}",
                    e.message
                );
            }
            other => panic!("{target}: fetched {other:?}"),
        }
    }
    assert_eq!(requests(&inside).await, 0, "no request reached 127.0.0.3");

    // With the opt-in the same name is fetched.
    let open = fetcher(&[], true);
    let got = open
        .fetch(&url(format!("http://internal.test:{port}/x")), None)
        .await;
    assert!(matches!(got, FetchOutcome::Fetched(_)), "{got:?}");
    assert!(requests(&inside).await >= 1);
}

#[tokio::test]
async fn only_http_and_https_are_fetched() {
    let f = fetcher(&[], true);
    for u in [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "gopher://127.0.0.1/",
    ] {
        match f.fetch(&Url::parse(u).unwrap(), None).await {
            FetchOutcome::Failed(e) => {
                assert_eq!(e.kind, FailureKind::OffLimits, "{u}");
                assert!(
                    e.message.contains("only http and https"),
                    "{u}: {}",
                    e.message
                );
            }
            other => panic!("{u}: {other:?}"),
        }
    }
}
