//! Accounts and Regions: one partition per (account, Region).
//!
//! A request acts in the partition of the Region its signature is scoped to
//! (the `Credential=KEY/DATE/REGION/SERVICE/aws4_request` of its
//! `Authorization` header, in open mode too; an unsigned request in open
//! mode: the configured Region) and of the account that owns the resource
//! it names — the caller's own account unless it names another account's
//! bus, queue or state machine by ARN or URL (then that account's resource
//! policy decides, as in the service). Each partition is its own [`Bus`]
//! (store, buses, rules, queues, archives, connections), states runner and
//! Scheduler, so ARNs, events' `account` and `region`, queue URLs and
//! everything listed are that partition's and nothing is shared between
//! two of them.
//!
//! The configured (account, Region) keeps its store at the root of the data
//! directory (stores written before partitions existed are read as they
//! are); another partition's store is `accounts/ACCOUNT/REGION/` under it,
//! opened on the first request for it and at start when it exists. The
//! accounts served are the configured one and those of the configured
//! credentials; the Regions, any AWS Region name (or those of the
//! configuration's `regions`).
//!
//! Between partitions only event buses are reachable, as in the service: a
//! rule may target another account's or Region's bus, and a PutEvents entry
//! may name another account's bus by ARN; both are authorized by the
//! receiving bus's policy for the credential that put the event
//! ([`CrossPartition`]).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use axum::http::{HeaderMap, Uri};
use serde_json::Value;

use super::{AppState, ServiceId, Shared, scheduler, universal};
use ferrule_bus::{Bus, BusOptions, ForeignBuses, PutEventsEntry, PutEventsResultEntry};
use ferrule_dispatch::targets::Target;
use ferrule_policy::Principal;

/// Most partitions open at once (each has its own store and threads).
const MAX_PARTITIONS: usize = 64;

/// An (account, Region).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct PartitionKey {
    /// The 12-digit account id.
    pub(crate) account: String,
    /// The Region name (`eu-central-1`).
    pub(crate) region: String,
}

/// Whether `name` is shaped as an AWS Region name: `xx-word-N` with an
/// optional second word (`us-gov-west-1`, `ap-southeast-2`, `eu-central-1`).
pub(crate) fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let word =
        |s: &str| !s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_lowercase());
    match parts.as_slice() {
        [geo, rest @ .., n] if (1..=2).contains(&rest.len()) => {
            geo.len() == 2
                && word(geo)
                && rest.iter().all(|w| word(w))
                && !n.is_empty()
                && n.len() <= 2
                && n.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

/// Whether `s` is a 12-digit account id.
fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The Region a request's signature is scoped to, if it carries one
/// (`Authorization` header or presigned `X-Amz-Credential`); whether the
/// signature verifies is the authentication layer's business.
pub(crate) fn signed_region(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let scope_region = |credential: &str| -> Option<String> {
        // KEY/DATE/REGION/SERVICE/aws4_request
        let mut parts = credential.split('/');
        parts.nth(2).map(str::to_string)
    };
    if let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let credential = auth
            .split([',', ' '])
            .find_map(|p| p.trim().strip_prefix("Credential="))?;
        return scope_region(credential);
    }
    let query = uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "X-Amz-Credential")
        .and_then(|(_, v)| scope_region(&v))
}

/// The (Region, account) of the resource a request names, when it names
/// one by ARN (or, for SQS, by queue URL): the partition it acts in.
/// PutEvents is not here: its entries go to their buses one by one, in the
/// bus ([`ForeignBuses`]).
pub(crate) fn named_scope(
    service: ServiceId,
    operation: &str,
    body: &Value,
) -> Option<(Option<String>, String)> {
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    // An ARN without a well-formed account and Region is the service's to
    // refuse (InvalidArn, ValidationException), in the caller's partition.
    let of_arn = |arn: &str| {
        ferrule_bus::arn_scope(arn)
            .filter(|(r, a)| is_region_name(r) && is_account(a))
            .map(|(r, a)| (Some(r.to_string()), a.to_string()))
    };
    match service {
        ServiceId::Events => {
            // PutEvents' entries go to their buses in the bus; an archive's
            // or replay's source of another account or Region is refused
            // by the bus (`EventSourceArn` is not routed).
            if operation == "PutEvents" {
                return None;
            }
            ["EventBusName", "ResourceARN", "Name"]
                .iter()
                .filter_map(|k| text(k))
                .find(|v| v.starts_with("arn:"))
                .and_then(of_arn)
        }
        ServiceId::Sqs => {
            // http://HOST/ACCOUNT/NAME
            let url = text("QueueUrl")?;
            let path = url.split_once("://").map_or(url, |(_, rest)| rest);
            let mut segments = path.split('/').skip(1);
            let account = segments.next()?;
            (is_account(account) && segments.next().is_some()).then(|| (None, account.to_string()))
        }
        ServiceId::States => [
            "stateMachineArn",
            "executionArn",
            "activityArn",
            "stateMachineVersionArn",
            "stateMachineAliasArn",
            "resourceArn",
        ]
        .iter()
        .find_map(|k| text(k))
        .and_then(of_arn),
    }
}

/// The partitions, the configured one first; what the router holds.
pub(crate) struct Server {
    /// What every partition shares (credentials, metrics, the clock).
    pub(crate) shared: Arc<Shared>,
    /// The configured (account, Region).
    pub(crate) home: Arc<AppState>,
    home_key: PartitionKey,
    others: RwLock<HashMap<PartitionKey, Arc<AppState>>>,
    /// One partition opens at a time (opening twice would open its store twice).
    opening: Mutex<()>,
    /// The home partition's bus options: the others copy them.
    template: BusOptions,
    /// Accounts that may have partitions.
    accounts: HashSet<String>,
    /// Regions that may have partitions (`None`: any Region name).
    regions: Option<Vec<String>>,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("home", &self.home_key)
            .finish_non_exhaustive()
    }
}

/// How [`Server::open`] sets the home partition up before its Scheduler
/// loads (the configuration file's buses, rules and queues).
pub(crate) type HomeSetup<'a> = &'a dyn Fn(&Arc<AppState>) -> Result<(), String>;

impl Server {
    /// Opens the home partition from `options`, then every other partition
    /// whose store exists (so their schedules, retries and executions run
    /// on), blocking.
    pub(crate) fn open(
        shared: Arc<Shared>,
        options: BusOptions,
        regions: Option<Vec<String>>,
        runtime: tokio::runtime::Handle,
        setup: HomeSetup<'_>,
    ) -> Result<Arc<Server>, String> {
        let home_key = PartitionKey {
            account: options.account.clone(),
            region: options.region.clone(),
        };
        let mut accounts: HashSet<String> = shared
            .principals
            .values()
            .map(|p| p.account().to_string())
            .collect();
        accounts.insert(home_key.account.clone());
        let home = open_partition(&shared, options.clone(), &home_key, &runtime, setup)?;
        let server = Arc::new(Server {
            shared: Arc::clone(&shared),
            home,
            home_key,
            others: RwLock::new(HashMap::new()),
            opening: Mutex::new(()),
            template: options,
            accounts,
            regions,
            runtime,
        });
        let _ = shared.server.set(Arc::downgrade(&server));
        for key in server.stored_partitions() {
            server.partition(&key)?;
        }
        Ok(server)
    }

    /// The partitions with a store on disk (but the home one).
    fn stored_partitions(&self) -> Vec<PartitionKey> {
        let mut out = Vec::new();
        let root = self.template.data_dir.join("accounts");
        let Ok(accounts) = std::fs::read_dir(&root) else {
            return out;
        };
        for account in accounts.flatten() {
            let Ok(regions) = std::fs::read_dir(account.path()) else {
                continue;
            };
            for region in regions.flatten() {
                let key = PartitionKey {
                    account: account.file_name().to_string_lossy().into_owned(),
                    region: region.file_name().to_string_lossy().into_owned(),
                };
                if self.may_serve(&key).is_ok() && key != self.home_key {
                    out.push(key);
                }
            }
        }
        out.sort();
        out
    }

    /// Why `key` cannot have a partition, if it cannot.
    fn may_serve(&self, key: &PartitionKey) -> Result<(), String> {
        if !self.accounts.contains(&key.account) {
            return Err(format!(
                "ferrule serves no account {} (it serves {} and the accounts of its configured credentials)",
                key.account, self.home_key.account
            ));
        }
        self.region_ok(&key.region)
    }

    /// Why a request may not be scoped to `region`, if it may not.
    pub(crate) fn region_ok(&self, region: &str) -> Result<(), String> {
        let ok = match &self.regions {
            Some(list) => list.iter().any(|r| r == region),
            None => is_region_name(region),
        };
        if ok {
            Ok(())
        } else {
            Err(format!("'{region}' is not a Region this server serves"))
        }
    }

    /// The configured (account, Region).
    pub(crate) fn home_key(&self) -> &PartitionKey {
        &self.home_key
    }

    /// The partition of `key` if it is open (the home one always is),
    /// without blocking: what [`Server::partition`] answers first.
    pub(crate) fn partition_if_open(&self, key: &PartitionKey) -> Option<Arc<AppState>> {
        if *key == self.home_key {
            return Some(Arc::clone(&self.home));
        }
        self.others.read().ok().and_then(|m| m.get(key).cloned())
    }

    /// The partition of `key`, opened when it is not yet (blocking: its
    /// store is opened, its Scheduler and runner loaded).
    pub(crate) fn partition(&self, key: &PartitionKey) -> Result<Arc<AppState>, String> {
        if let Some(p) = self.partition_if_open(key) {
            return Ok(p);
        }
        self.may_serve(key)?;
        let _opening = self
            .opening
            .lock()
            .map_err(|_| "a partition failed to open".to_string())?;
        if let Some(p) = self.others.read().ok().and_then(|m| m.get(key).cloned()) {
            return Ok(p);
        }
        if self.others.read().map_or(0, |m| m.len()) + 1 >= MAX_PARTITIONS {
            return Err(format!(
                "ferrule serves at most {MAX_PARTITIONS} (account, Region) pairs at once"
            ));
        }
        let mut options = self.template.clone();
        options.data_dir = self
            .template
            .data_dir
            .join("accounts")
            .join(&key.account)
            .join(&key.region);
        options.account = key.account.clone();
        options.region = key.region.clone();
        std::fs::create_dir_all(&options.data_dir)
            .map_err(|e| format!("cannot make {}: {e}", options.data_dir.display()))?;
        let state = open_partition(&self.shared, options, key, &self.runtime, &|_| Ok(()))?;
        tracing::info!(account = %key.account, region = %key.region, "partition opened");
        if let Ok(mut m) = self.others.write() {
            m.insert(key.clone(), Arc::clone(&state));
        }
        Ok(state)
    }

    /// Every open partition, the home one first (for `/health`,
    /// `/metrics` and the clock).
    pub(crate) fn every_partition(&self) -> Vec<Arc<AppState>> {
        let mut all = vec![Arc::clone(&self.home)];
        if let Ok(m) = self.others.read() {
            all.extend(m.values().cloned());
        }
        all
    }

    /// Stops every partition's runner and bus (executions and deliveries
    /// stay stored), blocking.
    pub(crate) fn close(self: Arc<Server>) {
        let others: Vec<Arc<AppState>> = self
            .others
            .write()
            .map(|mut m| m.drain().map(|(_, v)| v).collect())
            .unwrap_or_default();
        for p in others
            .into_iter()
            .chain(std::iter::once(Arc::clone(&self.home)))
        {
            p.close();
        }
    }
}

/// Opens one partition: its bus, runner and Scheduler, with `setup` run
/// before the Scheduler loads.
fn open_partition(
    shared: &Arc<Shared>,
    options: BusOptions,
    key: &PartitionKey,
    runtime: &tokio::runtime::Handle,
    setup: HomeSetup<'_>,
) -> Result<Arc<AppState>, String> {
    let dir: PathBuf = options.data_dir.clone();
    let bus = Bus::open(options)
        .map_err(|e| format!("cannot open the store in {}: {e}", dir.display()))?;
    let bus = Arc::new(bus);
    {
        let principals = Arc::clone(&shared.principals);
        bus.set_principal_resolver(Arc::new(move |k: &str| principals.get(k).cloned()));
    }
    let runner =
        ferrule_runner::Runner::open(Arc::clone(&bus), ferrule_runner::RunnerOptions::new())
            .map_err(|e| format!("cannot open the states runner: {e}"))?;
    let state = Arc::new(AppState {
        bus: Arc::clone(&bus),
        runner: Arc::new(runner),
        scheduling: scheduler::Scheduling::new(),
        receive_attempts: Default::default(),
        shared: Arc::clone(shared),
    });
    setup(&state)?;
    scheduler::load(&state)?;
    // Scheduler's universal targets for every served operation, run in process.
    bus.register_provider(
        "scheduler",
        Arc::new(universal::UniversalTargets {
            state: Arc::downgrade(&state),
            runtime: runtime.clone(),
        }),
    );
    bus.set_foreign_buses(Arc::new(CrossPartition {
        shared: Arc::clone(shared),
        from: key.clone(),
    }));
    Ok(state)
}

/// The buses of the other partitions, as one partition's bus sees them.
struct CrossPartition {
    shared: Arc<Shared>,
    from: PartitionKey,
}

impl CrossPartition {
    fn server(&self) -> Option<Arc<Server>> {
        self.shared.server()
    }

    /// The partition and bus name of an event bus ARN.
    fn bus_of(&self, arn: &str) -> Result<(Arc<AppState>, String), String> {
        let name = ferrule_core::arn::bus_name(arn)
            .ok_or_else(|| format!("{arn} is not an event bus ARN"))?;
        let (region, account) = ferrule_bus::arn_scope(arn)
            .ok_or_else(|| format!("{arn} names no account and Region"))?;
        let server = self
            .server()
            .ok_or_else(|| "the server is stopping".to_string())?;
        let key = PartitionKey {
            account: account.to_string(),
            region: region.to_string(),
        };
        Ok((server.partition(&key)?, name.to_string()))
    }
}

impl ForeignBuses for CrossPartition {
    fn check_target(&self, arn: &str) -> Result<(), String> {
        // Whether the receiving bus's policy lets the rule's author put
        // events there is checked at PutTargets by the server (it knows the
        // caller), and again for every event delivered.
        self.bus_of(arn).map(|_| ())
    }

    fn resolve_target(&self, arn: &str) -> Option<Arc<dyn Target>> {
        let (partition, name) = self.bus_of(arn).ok()?;
        Some(partition.bus.bus_target(&name))
    }

    fn put_events(
        &self,
        caller: &Principal,
        as_service: bool,
        entries: Vec<PutEventsEntry>,
    ) -> Vec<PutEventsResultEntry> {
        let failed = |code: &str, message: String| PutEventsResultEntry {
            event_id: None,
            error_code: Some(code.to_string()),
            error_message: Some(message),
        };
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            let arn = entry.event_bus_name.clone().unwrap_or_default();
            // A PutEvents call reaches buses of its own Region only; rules
            // forward across Regions (`resolve_target`).
            if ferrule_bus::arn_scope(&arn).is_some_and(|(r, _)| r != self.from.region) {
                out.push(failed(
                    "ValidationException",
                    format!(
                        "EventBusName {arn} is not in the Region the request is for ({}).",
                        self.from.region
                    ),
                ));
                continue;
            }
            let partition = match self.bus_of(&arn) {
                Ok((p, _)) => p,
                Err(_) => {
                    out.push(failed(
                        "AccessDeniedException",
                        ferrule_bus::denied_message(
                            caller,
                            "events:PutEvents",
                            &arn,
                            ferrule_policy::Decision::ImplicitDeny,
                        ),
                    ));
                    continue;
                }
            };
            let result = if as_service {
                partition.bus.put_events_as_service(caller, vec![entry])
            } else {
                partition.bus.put_events_as(caller, vec![entry])
            };
            match result {
                Ok(r) => out.extend(r.entries),
                Err(e) => out.push(failed("InternalFailure", e.message().to_string())),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names() {
        for ok in [
            "us-east-1",
            "eu-central-1",
            "ap-southeast-2",
            "us-gov-west-1",
            "il-central-1",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "",
            "mars-1",
            "us-east",
            "US-EAST-1",
            "us-east-100",
            "a-b-1",
            "us--1",
            "../x-y-1",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_signed_region_is_read_from_the_credential_scope() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20240501/eu-central-1/events/aws4_request, SignedHeaders=host, Signature=00"
                .parse()
                .unwrap(),
        );
        let uri: Uri = "/".parse().unwrap();
        assert_eq!(signed_region(&h, &uri).as_deref(), Some("eu-central-1"));
        let presigned: Uri =
            "/q?X-Amz-Credential=AKID%2F20240501%2Fap-south-1%2Fsqs%2Faws4_request"
                .parse()
                .unwrap();
        assert_eq!(
            signed_region(&HeaderMap::new(), &presigned).as_deref(),
            Some("ap-south-1")
        );
        assert_eq!(signed_region(&HeaderMap::new(), &uri), None);
    }

    #[test]
    fn requests_name_their_resources_partition() {
        let body = serde_json::json!({"EventBusName": "arn:aws:events:us-east-1:111111111111:event-bus/b"});
        assert_eq!(
            named_scope(ServiceId::Events, "ListRules", &body),
            Some((Some("us-east-1".into()), "111111111111".into()))
        );
        assert_eq!(named_scope(ServiceId::Events, "PutEvents", &body), None);
        let malformed =
            serde_json::json!({"executionArn": "arn:aws:states:us-east-1:1:activity:x"});
        assert_eq!(
            named_scope(ServiceId::States, "DescribeExecution", &malformed),
            None
        );
        assert_eq!(
            named_scope(
                ServiceId::Events,
                "ListRules",
                &serde_json::json!({"EventBusName": "b"})
            ),
            None
        );
        let q = serde_json::json!({"QueueUrl": "http://127.0.0.1:4010/222222222222/q"});
        assert_eq!(
            named_scope(ServiceId::Sqs, "SendMessage", &q),
            Some((None, "222222222222".into()))
        );
        let sm = serde_json::json!({"stateMachineArn": "arn:aws:states:eu-west-1:000000000000:stateMachine:m"});
        assert_eq!(
            named_scope(ServiceId::States, "StartExecution", &sm),
            Some((Some("eu-west-1".into()), "000000000000".into()))
        );
    }
}
