//! A loopback site serving an RSS feed at `/feed.xml` (wiremock).

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Serves `feed` at `/feed.xml` on `server` as `application/rss+xml`.
pub async fn serve_feed(server: &MockServer, feed: String) {
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(feed.into_bytes(), "application/rss+xml"),
        )
        .mount(server)
        .await;
}
