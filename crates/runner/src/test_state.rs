//! TestState: one state run alone ([`ferrule_states::test_state`]) with
//! the runner's integrations, so a Task state calls the same buses, queues,
//! state machines and endpoints an execution would (unless mocked).

use ferrule_states::test_state::{TestStateRequest, test_state};
use serde_json::Value;

use crate::Runner;
use crate::error::{RunnerError, RunnerErrorKind};
use crate::integrations::Integrations;

impl Runner {
    /// TestState: the API's answer (`status`, `output`, `error`, `cause`,
    /// `nextState`, `inspectionData`), or its error.
    pub fn test_state(&self, request: &TestStateRequest<'_>) -> Result<Value, RunnerError> {
        test_state(request, &Integrations { inner: &self.inner }).map_err(|e| {
            let kind = match e.error_type {
                "InvalidDefinition" => RunnerErrorKind::InvalidDefinition,
                "InvalidExecutionInput" => RunnerErrorKind::InvalidExecutionInput,
                _ => RunnerErrorKind::Validation,
            };
            RunnerError::new(kind, e.message)
        })
    }

    /// The region of this runner (TestState writes it into the context's ARNs).
    pub fn region(&self) -> &str {
        &self.inner.scope.region
    }
}
