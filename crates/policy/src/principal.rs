//! Who is asking: the identity a verified signature (or open mode) gives a
//! request, with what policies can test about it.

use std::fmt;
use std::sync::Arc;

use super::Policy;

/// The caller of a request, as the policy language sees it.
///
/// With credentials configured, each access key maps to an IAM user of an
/// account (`arn:aws:iam::ACCOUNT:user/NAME`) with optional identity
/// policies. In open mode every request is made by the server's own account
/// (`arn:aws:iam::ACCOUNT:root`) with no identity policy, which is allowed
/// everything a resource policy does not explicitly deny.
#[derive(Clone, PartialEq)]
pub struct Principal {
    account: String,
    arn: String,
    user: Option<String>,
    access_key: Option<String>,
    org_id: Option<String>,
    identity: Option<Arc<Vec<Policy>>>,
}

impl Principal {
    /// The account itself (open mode, or ferrule acting for an account).
    pub fn account_root(account: &str) -> Principal {
        Principal {
            account: account.to_string(),
            arn: format!("arn:aws:iam::{account}:root"),
            user: None,
            access_key: None,
            org_id: None,
            identity: None,
        }
    }

    /// An IAM user of `account` signing with `access_key`; `identity` is the
    /// user's identity policies (`None`: unrestricted within what resource
    /// policies allow, as an administrator).
    pub fn user(
        account: &str,
        user: &str,
        access_key: &str,
        org_id: Option<&str>,
        identity: Option<Arc<Vec<Policy>>>,
    ) -> Principal {
        Principal {
            account: account.to_string(),
            arn: format!("arn:aws:iam::{account}:user/{user}"),
            user: Some(user.to_string()),
            access_key: Some(access_key.to_string()),
            org_id: org_id.map(str::to_string),
            identity,
        }
    }

    /// The account id.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The principal's ARN (`aws:PrincipalArn`).
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The access key that signed the request, if any.
    pub fn access_key(&self) -> Option<&str> {
        self.access_key.as_deref()
    }

    /// The identity policies, if the principal has any.
    pub fn identity_policies(&self) -> Option<&[Policy]> {
        self.identity.as_deref().map(Vec::as_slice)
    }

    /// The value of a global condition key about the principal.
    pub(crate) fn condition_value(&self, key: &str) -> Option<&str> {
        // Condition keys are case-insensitive.
        match key.to_ascii_lowercase().as_str() {
            "aws:principalaccount" => Some(&self.account),
            "aws:principalarn" => Some(&self.arn),
            "aws:principalorgid" => self.org_id.as_deref(),
            "aws:username" => self.user.as_deref(),
            // ferrule's users have no unique ids; the access key stands in.
            "aws:userid" => self.access_key.as_deref(),
            "aws:principaltype" => Some(if self.user.is_some() {
                "User"
            } else {
                "Account"
            }),
            _ => None,
        }
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("arn", &self.arn)
            .field("access_key", &self.access_key)
            .field("org_id", &self.org_id)
            .field(
                "identity_policies",
                &self.identity.as_ref().map(|p| p.len()),
            )
            .finish()
    }
}
