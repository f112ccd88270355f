//! A throwaway PostgreSQL cluster of the test's own: `initdb` into a temporary directory,
//! listening only on a unix socket there (on a free port number), run as the `postgres` user
//! when the tests run as root (initdb refuses root). One per test binary, started on first
//! use and stopped when the binary exits (the server gets SIGINT when its parent thread, a
//! thread kept for the whole run, goes). Each test gets a database of its own.
//!
//! Debian's package puts the server in `/usr/lib/postgresql/<version>/bin`; set
//! `NEWSWATCH_PG_BIN` to use another.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A running cluster.
pub struct Cluster {
    /// Holds `data/` and the socket.
    pub dir: PathBuf,
    pub port: u16,
    bin: PathBuf,
    owner: Option<(u32, u32)>,
    /// The server process, on its keeper thread.
    child: Mutex<Option<u32>>,
    /// `-c name=value` settings beyond the defaults (TLS, a TCP address).
    settings: Vec<(String, String)>,
}

/// The binary's shared cluster.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::start)
}

fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("NEWSWATCH_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL's server binaries are needed (Debian: apt-get install postgresql; or set NEWSWATCH_PG_BIN)"
        )
    })
}

/// `postgres`'s uid and gid when running as root.
fn owner() -> Option<(u32, u32)> {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        return None;
    }
    let name = std::ffi::CString::new("postgres").expect("no NUL");
    // SAFETY: a valid C string; the returned record is read at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !pw.is_null(),
        "running as root needs a `postgres` user to run the server"
    );
    // SAFETY: non-null, points at libc's static record.
    let pw = unsafe { &*pw };
    Some((pw.pw_uid, pw.pw_gid))
}

/// Removes the cluster directories of test processes that have ended. The shared cluster
/// lives in a static, which is never dropped: its server stops with the process (it is sent
/// `SIGINT` then), its directory stayed behind, tens of megabytes per test binary run.
fn remove_ended_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix("newswatch-pg-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        let Some(pid) = pid else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A command running as `owner` (when given) that gets `death` when its parent thread ends.
fn as_owner(mut cmd: Command, owner: Option<(u32, u32)>, death: Option<i32>) -> Command {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if let Some((uid, gid)) = owner {
                if libc::setgid(gid) != 0 || libc::setuid(uid) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            // After the credentials change, which would clear it.
            if let Some(sig) = death {
                libc::prctl(libc::PR_SET_PDEATHSIG, sig);
            }
            Ok(())
        });
    }
    cmd
}

impl Cluster {
    /// A new cluster, running.
    pub fn start() -> Cluster {
        let cluster = Cluster::init();
        cluster.run_server();
        cluster
    }

    /// A new cluster that also listens on 127.0.0.1 and takes TCP connections only over TLS
    /// (`hostssl` in `pg_hba.conf`; a plain one is refused), presenting `cert_pem` (with the
    /// key `key_pem`). Unix-socket connections are trusted as usual.
    pub fn start_tls(cert_pem: &str, key_pem: &str) -> Cluster {
        use std::os::unix::fs::PermissionsExt as _;
        let mut cluster = Cluster::init();
        let data = cluster.dir.join("data");
        for (name, text) in [("server.crt", cert_pem), ("server.key", key_pem)] {
            let path = data.join(name);
            std::fs::write(&path, text).expect("write the server's certificate");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            if let Some((uid, gid)) = cluster.owner {
                std::os::unix::fs::chown(&path, Some(uid), Some(gid)).expect("chown");
            }
        }
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .expect("write pg_hba.conf");
        cluster.settings = [
            ("listen_addresses", "127.0.0.1"),
            ("ssl", "on"),
            ("ssl_cert_file", "server.crt"),
            ("ssl_key_file", "server.key"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        cluster.run_server();
        cluster
    }

    /// initdb into a new directory.
    fn init() -> Cluster {
        static N: AtomicUsize = AtomicUsize::new(0);
        static SWEPT: std::sync::Once = std::sync::Once::new();
        SWEPT.call_once(remove_ended_clusters);
        let bin = bin_dir();
        let owner = owner();
        let dir = std::env::temp_dir().join(format!(
            "newswatch-pg-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the cluster's directory");
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown to postgres");
        }
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-U", "newswatch", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .arg("--locale=C.UTF-8")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let out = as_owner(initdb, owner, None).output().expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Cluster {
            dir,
            port: free_port(),
            bin,
            owner,
            child: Mutex::new(None),
            settings: Vec::new(),
        }
    }

    /// Starts the server on a keeper thread and waits until it accepts connections.
    pub fn run_server(&self) {
        let mut server = Command::new(self.bin.join("postgres"));
        server
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-k")
            .arg(&self.dir)
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-c", "listen_addresses=", "-c", "fsync=off"])
            .args(
                self.settings
                    .iter()
                    .flat_map(|(k, v)| ["-c".to_owned(), format!("{k}={v}")]),
            )
            .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .args(["-c", "max_connections=200"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut server = as_owner(server, self.owner, Some(libc::SIGINT));
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let child: std::io::Result<Child> = server.spawn();
            match child {
                Ok(mut c) => {
                    let _ = tx.send(Ok(c.id()));
                    let _ = c.wait();
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
            // Keep the thread (the server's parent) alive until the process exits.
            loop {
                std::thread::park();
            }
        });
        let pid = rx
            .recv()
            .expect("the keeper thread reports")
            .expect("start postgres");
        *self.child.lock().expect("lock") = Some(pid);
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let pidfile = self.dir.join("data").join("postmaster.pid");
        let t = Instant::now();
        loop {
            if std::fs::read_to_string(&pidfile).is_ok_and(|s| s.contains("ready")) {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "postgres did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server now (fast shutdown) and waits until it is gone.
    pub fn stop(&self) {
        let Some(pid) = self.child.lock().expect("lock").take() else {
            return;
        };
        // SAFETY: a signal to our own child.
        unsafe {
            libc::kill(i32::try_from(pid).expect("a pid"), libc::SIGINT);
        }
        let pidfile = self.dir.join("data").join("postmaster.pid");
        let t = Instant::now();
        while pidfile.exists() {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "postgres did not stop"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The URL of database `db` on this cluster.
    #[must_use]
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgresql://newswatch@/{db}?host={}&port={}",
            self.dir.display(),
            self.port
        )
    }

    /// A new, empty database; its URL.
    pub async fn fresh_db(&self) -> String {
        self.url(&self.fresh_db_name().await)
    }

    /// A new, empty database; its name.
    pub async fn fresh_db_name(&self) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "nw_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let (client, conn) = tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
            .await
            .expect("connect to the test cluster");
        let task = tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create a database");
        drop(client);
        let _ = task.await;
        name
    }

    /// Runs `sql` (one or more statements) on the database at `url`.
    pub async fn execute(url: &str, sql: &str) {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to the test cluster");
        let task = tokio::spawn(conn);
        client.batch_execute(sql).await.expect("run the statements");
        drop(client);
        let _ = task.await;
    }

    /// The first column of the first row of `sql`, as text (`None` for no row or NULL).
    pub async fn scalar(url: &str, sql: &str) -> Option<String> {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to the test cluster");
        let task = tokio::spawn(conn);
        let rows = client.simple_query(sql).await.expect("run the query");
        drop(client);
        let _ = task.await;
        rows.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
    }

    /// The server's (postmaster's) process id, while it runs.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        *self.child.lock().expect("lock")
    }

    /// Where the server binaries are.
    #[must_use]
    pub fn bin(&self) -> &Path {
        &self.bin
    }
}
