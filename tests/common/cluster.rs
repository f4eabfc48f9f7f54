//! Apache Kafka clusters the fault tests start and break: one to three KRaft
//! nodes on 127.0.0.1, each broker and controller in one JVM, on ports picked
//! free at runtime. Each node can be killed (`kill -9`), restarted on its own
//! data, frozen (SIGSTOP) and thawed (SIGCONT). Dropping the [`Cluster`] kills
//! every JVM it started, also when the test panics.
//!
//! The jars come from `.ci/install-kafka` (its last stdout line is the
//! directory holding `libs/`), the same Kafka the rest of the tests run on.

#![allow(dead_code)]

use std::io::{Read, Seek, SeekFrom};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a node may take to start before the test fails with its log. The
/// machines the tests run on are small and shared: three JVMs starting at once
/// on two cores take a while.
const START_TIMEOUT: Duration = Duration::from_secs(150);

/// One KRaft node: broker and controller in one JVM.
struct Node {
    id: u32,
    port: u16,
    controller_port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Frozen with SIGSTOP and not yet thawed.
    frozen: bool,
    /// Length of the log when the JVM was last spawned, so a restart waits for
    /// its own "started" line, not the previous incarnation's.
    log_from: u64,
}

/// A running KRaft cluster of 1 or 3 nodes.
pub struct Cluster {
    nodes: Vec<Node>,
    home: PathBuf,
    pub dir: PathBuf,
    bootstrap: String,
}

/// `n` distinct ports free now: bound on port 0 together, then released.
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local addr").port())
        .collect()
}

/// The Kafka installation (`.ci/install-kafka`, which resolves the jars once).
pub fn kafka_home() -> PathBuf {
    let out = Command::new("bash")
        .arg(super::root().join(".ci/install-kafka"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run .ci/install-kafka");
    assert!(
        out.status.success(),
        ".ci/install-kafka failed with {}",
        out.status
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let home = PathBuf::from(
        stdout
            .lines()
            .last()
            .expect(".ci/install-kafka printed")
            .trim(),
    );
    assert!(
        home.join("libs").is_dir(),
        "no libs/ under {}",
        home.display()
    );
    home
}

impl Cluster {
    /// Starts `nodes` (1 or 3) nodes and waits until every one serves.
    /// With 3 nodes, every topic (warta's and Kafka's internal ones) is
    /// replicated 3 times with `min.insync.replicas` 2, so any one node may
    /// die without losing an acknowledged record or stopping writes.
    pub fn start(name: &str, nodes: usize) -> Cluster {
        assert!(nodes == 1 || nodes == 3, "1 or 3 nodes");
        let home = kafka_home();
        let dir = std::env::temp_dir().join(format!(
            "warta-cluster-{name}-{}-{}",
            std::process::id(),
            super::kafka::rand_suffix() % 1_000_000
        ));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let ports = free_ports(2 * nodes);
        let mut c = Cluster {
            nodes: (0..nodes)
                .map(|i| Node {
                    id: i as u32 + 1,
                    port: ports[2 * i],
                    controller_port: ports[2 * i + 1],
                    dir: dir.join(format!("node{}", i + 1)),
                    child: None,
                    frozen: false,
                    log_from: 0,
                })
                .collect(),
            home,
            dir,
            bootstrap: String::new(),
        };
        c.bootstrap = c
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",");
        let cluster_id = c.java_output(&["kafka.tools.StorageTool", "random-uuid"]);
        let cluster_id = cluster_id
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        assert!(
            !cluster_id.is_empty(),
            "StorageTool random-uuid printed nothing"
        );
        for i in 0..nodes {
            c.configure(i, &cluster_id);
        }
        // All JVMs at once: a KRaft broker waits for its controller quorum.
        for i in 0..nodes {
            c.spawn(i);
        }
        for i in 0..nodes {
            c.wait_started(i);
        }
        eprintln!(
            "cluster {name}: {nodes} Apache Kafka node(s) on {} ({})",
            c.bootstrap,
            c.dir.display()
        );
        c
    }

    /// The bootstrap servers, every node.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Node ids, 1-based as in `node.id`.
    pub fn ids(&self) -> Vec<u32> {
        self.nodes.iter().map(|n| n.id).collect()
    }

    pub fn pid(&self, id: u32) -> Option<u32> {
        self.node(id).child.as_ref().map(Child::id)
    }

    /// `kill -9` of node `id`; returns once the process is gone.
    pub fn kill(&mut self, id: u32) {
        let n = self.node_mut(id);
        if let Some(mut child) = n.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        n.frozen = false;
        eprintln!("cluster: node {id} killed (kill -9)");
    }

    /// Starts node `id` again on its data and waits until it serves.
    pub fn restart(&mut self, id: u32) {
        let i = self.index(id);
        assert!(self.nodes[i].child.is_none(), "node {id} is running");
        self.spawn(i);
        self.wait_started(i);
        eprintln!("cluster: node {id} restarted");
    }

    /// SIGSTOP: the JVM keeps its sockets open but answers nothing.
    pub fn freeze(&mut self, id: u32) {
        self.signal(id, "-STOP");
        self.node_mut(id).frozen = true;
        eprintln!("cluster: node {id} frozen (SIGSTOP)");
    }

    /// SIGCONT after [`Cluster::freeze`].
    pub fn thaw(&mut self, id: u32) {
        self.signal(id, "-CONT");
        self.node_mut(id).frozen = false;
        eprintln!("cluster: node {id} thawed (SIGCONT)");
    }

    /// The node's log so far (for a failure message).
    pub fn log_tail(&self, id: u32, lines: usize) -> String {
        tail(&self.node(id).dir.join("log"), lines)
    }

    fn signal(&self, id: u32, sig: &str) {
        let pid = self
            .pid(id)
            .unwrap_or_else(|| panic!("node {id} is not running"));
        let ok = Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill {sig} {pid} failed");
    }

    fn index(&self, id: u32) -> usize {
        self.nodes
            .iter()
            .position(|n| n.id == id)
            .unwrap_or_else(|| panic!("no node {id}"))
    }

    fn node(&self, id: u32) -> &Node {
        &self.nodes[self.index(id)]
    }

    fn node_mut(&mut self, id: u32) -> &mut Node {
        let i = self.index(id);
        &mut self.nodes[i]
    }

    fn classpath(&self) -> String {
        format!("{}/libs/*", self.home.display())
    }

    fn java_output(&self, args: &[&str]) -> String {
        let out = Command::new("java")
            .arg("-cp")
            .arg(self.classpath())
            .args(args)
            .stderr(Stdio::null())
            .output()
            .expect("run java");
        assert!(out.status.success(), "java {args:?} failed: {}", out.status);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Writes node `i`'s server.properties and formats its storage.
    fn configure(&self, i: usize, cluster_id: &str) {
        let n = &self.nodes[i];
        std::fs::create_dir_all(&n.dir).expect("node dir");
        let voters = self
            .nodes
            .iter()
            .map(|v| format!("{}@127.0.0.1:{}", v.id, v.controller_port))
            .collect::<Vec<_>>()
            .join(",");
        let rf = self.nodes.len();
        let min_isr = if rf >= 3 { 2 } else { 1 };
        let props = format!(
            "process.roles=broker,controller
node.id={id}
controller.quorum.voters={voters}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
num.partitions=2
default.replication.factor={rf}
min.insync.replicas={min_isr}
offsets.topic.replication.factor={rf}
offsets.topic.num.partitions=4
transaction.state.log.replication.factor={rf}
transaction.state.log.min.isr={min_isr}
transaction.state.log.num.partitions={txn_partitions}
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
unclean.leader.election.enable=false
log.flush.interval.messages=9223372036854775807
# A killed node's partitions move within seconds, not the 18 s defaults.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
controller.quorum.fetch.timeout.ms=4000
controller.quorum.election.timeout.ms=1500
replica.lag.time.max.ms=6000
# A transaction past its timeout is aborted within a second, not ten.
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
",
            id = n.id,
            port = n.port,
            cport = n.controller_port,
            data = n.dir.join("data").display(),
            txn_partitions = TXN_STATE_PARTITIONS,
        );
        std::fs::write(n.dir.join("server.properties"), props).expect("server.properties");
        let out = Command::new("java")
            .args(["-Xmx256m", "-cp"])
            .arg(self.classpath())
            .args(["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c"])
            .arg(n.dir.join("server.properties"))
            .output()
            .expect("run StorageTool format");
        assert!(
            out.status.success(),
            "formatting node {}'s storage failed:\n{}{}",
            n.id,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn spawn(&mut self, i: usize) {
        let cp = self.classpath();
        let n = &mut self.nodes[i];
        let log_path = n.dir.join("log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("node log");
        n.log_from = log.metadata().map(|m| m.len()).unwrap_or(0);
        let child = Command::new("java")
            .args([
                "-Xms128m",
                "-Xmx384m",
                "-XX:+UseG1GC",
                "-XX:TieredStopAtLevel=1",
                "-Djava.awt.headless=true",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-cp",
            ])
            .arg(cp)
            .arg("kafka.Kafka")
            .arg(n.dir.join("server.properties"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log fd"))
            .stderr(log)
            .spawn()
            .expect("spawn kafka.Kafka");
        n.child = Some(child);
    }

    /// Waits until node `i` logged "Kafka Server started" and accepts a TCP
    /// connection; fails the test with its log if it exits or takes too long.
    fn wait_started(&mut self, i: usize) {
        let start = Instant::now();
        let n = &mut self.nodes[i];
        let log_path = n.dir.join("log");
        loop {
            if log_since(&log_path, n.log_from).contains("Kafka Server started")
                && TcpStream::connect(("127.0.0.1", n.port)).is_ok()
            {
                return;
            }
            let exited = n
                .child
                .as_mut()
                .map(|c| c.try_wait().ok().flatten().is_some())
                .unwrap_or(true);
            if exited || start.elapsed() > START_TIMEOUT {
                if let Some(mut c) = n.child.take() {
                    let _ = c.kill();
                    let _ = c.wait();
                }
                panic!(
                    "Kafka node {} on 127.0.0.1:{} {}; its log:\n{}",
                    n.id,
                    n.port,
                    if exited {
                        "exited during start".to_string()
                    } else {
                        format!("did not start within {START_TIMEOUT:?}")
                    },
                    tail(&log_path, 200)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(mut child) = n.child.take() {
                // A frozen JVM dies from SIGKILL too; thaw it anyway so no
                // stopped process outlives the test under any kernel.
                if n.frozen {
                    let _ = Command::new("kill")
                        .args(["-CONT", &child.id().to_string()])
                        .status();
                }
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Partitions of `__transaction_state`, fixed so a test can find the
/// coordinator of a transactional id (see [`txn_state_partition`]).
pub const TXN_STATE_PARTITIONS: i32 = 4;

/// The `__transaction_state` partition whose leader coordinates
/// `transactional_id`: Kafka takes `abs(String.hashCode) % partitions`.
pub fn txn_state_partition(transactional_id: &str) -> i32 {
    let h = transactional_id
        .encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32));
    // Kafka's Utils.abs maps i32::MIN to 0.
    let abs = if h == i32::MIN { 0 } else { h.abs() };
    abs % TXN_STATE_PARTITIONS
}

fn log_since(path: &Path, from: u64) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    if f.seek(SeekFrom::Start(from)).is_err() {
        return String::new();
    }
    let mut s = Vec::new();
    let _ = f.read_to_end(&mut s);
    String::from_utf8_lossy(&s).into_owned()
}

fn tail(path: &Path, lines: usize) -> String {
    let all = log_since(path, 0);
    let v: Vec<&str> = all.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}
