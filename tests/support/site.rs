//! Loopback sites on wiremock: a document at a path with its `Content-Type`, a feed at
//! `/feed.xml`.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// `GET at` answered 200 with `body` as `content_type`: mount it (after `.expect(n)`, if
/// the test counts requests).
pub fn get(at: &str, body: impl Into<Vec<u8>>, content_type: &str) -> Mock {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.into(), content_type))
}

/// Serves `body` at `at` on `server` as `content_type`.
pub async fn serve(server: &MockServer, at: &str, body: impl Into<Vec<u8>>, content_type: &str) {
    get(at, body, content_type).mount(server).await;
}

/// Serves `feed` at `/feed.xml` on `server` as `application/rss+xml`.
pub async fn serve_feed(server: &MockServer, feed: String) {
    serve(server, "/feed.xml", feed, "application/rss+xml").await;
}

/// Serves at `/feed.xml` on `server` what `feed` returns when it is asked, as
/// `application/rss+xml`: a feed the test changes as it goes.
pub async fn serve_live_feed(
    server: &MockServer,
    feed: impl Fn() -> String + Send + Sync + 'static,
) {
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(move |_: &Request| {
            ResponseTemplate::new(200).set_body_raw(feed().into_bytes(), "application/rss+xml")
        })
        .mount(server)
        .await;
}
