//! Issue 17: TLS to PostgreSQL, against a real server (a throwaway cluster of this test's
//! own with `ssl = on`, a certificate for `db.example.test` issued by a test CA, and TCP
//! connections refused unless they are TLS). Each `sslmode` means what it means to libpq:
//! `disable` is refused by such a server, `prefer` and `require` encrypt without checking
//! the certificate, `verify-ca` checks the issuer, `verify-full` the issuer and the name.

mod support;

use newswatch::store::Store;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// A CA (PEM) and a server certificate and key for `db.example.test` it issued.
fn pki() -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, "newswatch test CA");
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = p.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["db.example.test".to_string()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    (ca.pem(), leaf.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sslmode_means_what_it_means_to_libpq() {
    let (ca, cert, key) = pki();
    let pg = support::pg::Cluster::start_tls(&cert, &key);
    let db = pg.fresh_db_name().await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    let ca_file = ca_file.display().to_string();
    // `host` is the name TLS checks; `hostaddr` where to connect.
    let url = |host: &str, query: &str| {
        format!(
            "postgresql://newswatch@{host}:{}/{db}?hostaddr=127.0.0.1&{query}",
            pg.port
        )
    };
    let open = |url: String| async move { Store::open_postgres(&url, None).await };

    // This server refuses TCP without TLS: each success below was encrypted.
    let err = open(url("db.example.test", "sslmode=disable"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no encryption"), "{err}");

    for (what, host, query) in [
        ("prefer, the default", "localhost", "application_name=nw"),
        (
            "require: encrypted, certificate not checked",
            "localhost",
            "sslmode=require",
        ),
        (
            "verify-full: issuer and name",
            "db.example.test",
            &format!("sslmode=verify-full&sslrootcert={ca_file}"),
        ),
        (
            "verify-ca: issuer, any name",
            "localhost",
            &format!("sslmode=verify-ca&sslrootcert={ca_file}"),
        ),
        (
            "require with sslrootcert is verify-ca",
            "localhost",
            &format!("sslmode=require&sslrootcert={ca_file}"),
        ),
    ] {
        let store = open(url(host, query))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        store.ping().await.unwrap();
    }

    for (what, host, query, said) in [
        (
            "verify-full with another name",
            "localhost",
            format!("sslmode=verify-full&sslrootcert={ca_file}"),
            "not valid for name",
        ),
        (
            "verify-ca against the system's roots",
            "db.example.test",
            "sslmode=verify-ca".to_string(),
            "UnknownIssuer",
        ),
        (
            "verify-full against the system's roots",
            "db.example.test",
            "sslmode=verify-full".to_string(),
            "UnknownIssuer",
        ),
    ] {
        let err = open(url(host, &query)).await.unwrap_err().to_string();
        assert!(err.contains(said), "{what}: {err}");
        assert!(
            err.contains("db.example.test") || err.contains("localhost"),
            "{what}: the database is named: {err}"
        );
    }

    // `check` connects the same way.
    let config = dir.path().join("newswatch.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{}\"\n[database]\nurl = \"{}\"\n\
             [[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\n",
            dir.path().join("state").display(),
            url(
                "db.example.test",
                &format!("sslmode=verify-full&sslrootcert={ca_file}")
            )
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_newswatch"))
        .arg("--config")
        .arg(&config)
        .arg("check")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("connected; schema version"), "{said}");
}
