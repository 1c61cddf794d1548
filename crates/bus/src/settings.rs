//! A bus's settings beyond its rules (UpdateEventBus: description, KMS key,
//! dead-letter queue, log configuration) and the tags of buses and rules
//! (TagResource, UntagResource, ListTagsForResource).
//!
//! The KMS key and the log configuration are stored and reported as given:
//! ferrule's store does not encrypt with KMS keys and ships no logs, which
//! the README says.

use std::collections::BTreeMap;

use crate::model::{BusRecord, no_bus};
use crate::{BUS_KEY, Bus, BusError, BusErrorKind, rule_key};

/// The most tags on a bus or rule (the service's 50).
pub(crate) const MAX_TAGS: usize = 50;

pub(crate) fn too_many_tags() -> BusError {
    BusError::new(
        BusErrorKind::LimitExceeded,
        format!("A resource can have at most {MAX_TAGS} tags."),
    )
}

/// `LogConfig`: (`IncludeDetail`, `Level`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogConfig {
    /// `IncludeDetail` (`NONE` or `FULL`).
    pub include_detail: Option<String>,
    /// `Level` (`OFF`, `ERROR`, `INFO`, `TRACE`).
    pub level: Option<String>,
}

/// The settings CreateEventBus and UpdateEventBus take besides the name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BusSettings {
    /// `Description`.
    pub description: Option<String>,
    /// `KmsKeyIdentifier`.
    pub kms_key_identifier: Option<String>,
    /// `DeadLetterConfig.Arn` (a built-in queue).
    pub dead_letter_arn: Option<String>,
    /// `LogConfig`.
    pub log_config: Option<LogConfig>,
}

impl BusSettings {
    fn check(&self, bus: &Bus) -> Result<(), BusError> {
        if let Some(arn) = &self.dead_letter_arn {
            bus.check_dead_letter_arn(arn)?;
        }
        Ok(())
    }

    fn apply(&self, record: &mut BusRecord) {
        if let Some(d) = &self.description {
            record.description = Some(d.clone());
        }
        if let Some(k) = &self.kms_key_identifier {
            // An empty identifier goes back to the AWS-owned key.
            record.kms_key_identifier = (!k.is_empty()).then(|| k.clone());
        }
        if let Some(a) = &self.dead_letter_arn {
            record.dead_letter_arn = Some(a.clone());
        }
        if let Some(l) = &self.log_config {
            record.log_config = Some((l.include_detail.clone(), l.level.clone()));
        }
    }
}

/// What a tagging call names: a bus or a rule.
enum Tagged {
    Bus(String),
    Rule(String, String),
}

impl Bus {
    /// CreateEventBus with its settings and tags (the policy is ferrule's
    /// extension, as in [`Bus::create_event_bus_with_policy`]).
    pub fn create_event_bus_with(
        &self,
        name: &str,
        settings: &BusSettings,
        policy: Option<&str>,
        tags: BTreeMap<String, String>,
    ) -> Result<String, BusError> {
        settings.check(self)?;
        if tags.len() > MAX_TAGS {
            return Err(too_many_tags());
        }
        let arn =
            self.create_event_bus_with_policy(name, settings.description.as_deref(), policy)?;
        self.inner.change_bus(name, |r| {
            settings.apply(r);
            r.tags = tags;
            Ok(())
        })?;
        Ok(arn)
    }

    /// UpdateEventBus: changes what `settings` sets; the bus as it is now.
    pub fn update_event_bus(
        &self,
        name: Option<&str>,
        settings: &BusSettings,
    ) -> Result<BusRecord, BusError> {
        settings.check(self)?;
        let name = crate::model::bus_of(name);
        let now = self.inner.clock.now_ms();
        self.inner.change_bus(&name, |r| {
            settings.apply(r);
            r.modified_ms = Some(now);
            Ok(())
        })
    }

    /// The stored record of bus `name` (DescribeEventBus's fields).
    pub fn event_bus_record(&self, name: Option<&str>) -> Result<BusRecord, BusError> {
        let name = crate::model::bus_of(name);
        let state = self.inner.read_state()?;
        Ok(state.bus(&name)?.record.clone())
    }

    fn tagged(&self, arn: &str) -> Result<Tagged, BusError> {
        let prefix = format!(
            "arn:aws:events:{}:{}:",
            self.inner.region, self.inner.account
        );
        let not_found = || {
            BusError::new(
                BusErrorKind::ResourceNotFound,
                format!("Resource {arn} does not exist."),
            )
        };
        let rest = arn.strip_prefix(&prefix).ok_or_else(not_found)?;
        if let Some(bus) = rest.strip_prefix("event-bus/") {
            return Ok(Tagged::Bus(bus.to_string()));
        }
        let rule = rest.strip_prefix("rule/").ok_or_else(not_found)?;
        Ok(match rule.split_once('/') {
            Some((bus, name)) => Tagged::Rule(bus.to_string(), name.to_string()),
            None => Tagged::Rule("default".into(), rule.to_string()),
        })
    }

    fn change_tags(
        &self,
        arn: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), BusError> {
        match self.tagged(arn)? {
            Tagged::Bus(bus) => self
                .inner
                .change_bus(&bus, |r| {
                    change(&mut r.tags);
                    if r.tags.len() > MAX_TAGS {
                        return Err(too_many_tags());
                    }
                    Ok(())
                })
                .map(|_| ()),
            Tagged::Rule(bus, name) => self.inner.update_rule_tags(&name, &bus, |t| {
                change(t);
                if t.len() > MAX_TAGS {
                    return Err(too_many_tags());
                }
                Ok(())
            }),
        }
    }

    /// TagResource (a bus or a rule ARN): adds or replaces `tags`.
    pub fn tag_resource(&self, arn: &str, tags: BTreeMap<String, String>) -> Result<(), BusError> {
        self.change_tags(arn, |t| t.extend(tags))
    }

    /// UntagResource.
    pub fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), BusError> {
        self.change_tags(arn, |t| {
            for k in keys {
                t.remove(k);
            }
        })
    }

    /// ListTagsForResource.
    pub fn list_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, BusError> {
        match self.tagged(arn)? {
            Tagged::Bus(bus) => Ok(self.event_bus_record(Some(&bus))?.tags),
            Tagged::Rule(bus, name) => Ok(self.describe_rule(&name, Some(&bus))?.tags),
        }
    }
}

impl crate::Inner {
    /// Changes bus `name`'s record, stored before it is visible.
    pub(crate) fn change_bus(
        &self,
        name: &str,
        change: impl FnOnce(&mut BusRecord) -> Result<(), BusError>,
    ) -> Result<BusRecord, BusError> {
        let mut state = self.write_state()?;
        let b = state.buses.get_mut(name).ok_or_else(|| no_bus(name))?;
        let mut record = b.record.clone();
        change(&mut record)?;
        self.save(&format!("{BUS_KEY}{name}"), Some(&record))?;
        b.record = record.clone();
        Ok(record)
    }

    /// Changes a rule's tags (not its matching: the compiled rules stay).
    pub(crate) fn update_rule_tags(
        &self,
        name: &str,
        bus: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>) -> Result<(), BusError>,
    ) -> Result<(), BusError> {
        let mut state = self.write_state()?;
        let b = state.buses.get_mut(bus).ok_or_else(|| no_bus(bus))?;
        let rule = b
            .rules
            .get_mut(name)
            .ok_or_else(|| crate::model::no_rule(name, bus))?;
        // The service's rules (an archive's) are not the caller's to tag.
        crate::archives::check_unmanaged(rule)?;
        let mut updated = rule.clone();
        change(&mut updated.tags)?;
        self.save(&rule_key(bus, name), Some(&updated))?;
        *rule = updated;
        Ok(())
    }
}
