//! IAM's wildcard matching: `*` matches any run of characters (also none),
//! `?` exactly one; everything else is literal. Used for `Action`,
//! `Resource` and the `...Like` condition operators.

/// Whether `text` matches `pattern`; `ignore_case` folds ASCII case (IAM
/// compares action names without case, resources with it).
pub(crate) fn matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    // Greedy match with one backtrack point: linear in practice and never
    // worse than O(|p|·|t|), so a long pattern cannot stall a request.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::matches;

    /// The definition, by recursion (exponential, fine for short inputs).
    fn reference(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (None, Some(_)) => false,
            (Some('*'), _) => reference(&p[1..], t) || (!t.is_empty() && reference(p, &t[1..])),
            (Some(_), None) => false,
            (Some('?'), Some(_)) => reference(&p[1..], &t[1..]),
            (Some(a), Some(b)) => a == b && reference(&p[1..], &t[1..]),
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_definition(p in "[ab*?]{0,8}", t in "[ab]{0,10}") {
            let pc: Vec<char> = p.chars().collect();
            let tc: Vec<char> = t.chars().collect();
            prop_assert_eq!(matches(&p, &t, false), reference(&pc, &tc));
        }
    }

    #[test]
    fn wildcards() {
        assert!(matches("events:*", "events:PutRule", false));
        assert!(matches("events:Put*", "events:PutRule", false));
        assert!(!matches("events:Put*", "events:DeleteRule", false));
        assert!(matches("events:P?tRule", "events:PutRule", false));
        assert!(!matches("events:P?tRule", "events:PtRule", false));
        assert!(matches("*", "", false));
        assert!(matches("a*b*c", "axxbyyc", false));
        assert!(!matches("a*b*c", "axxbyy", false));
        assert!(matches("EVENTS:putrule", "events:PutRule", true));
        assert!(!matches("EVENTS:putrule", "events:PutRule", false));
        assert!(matches(
            "arn:aws:events:*:*:event-bus/locked",
            "arn:aws:events:us-east-1:000000000000:event-bus/locked",
            false
        ));
        assert!(!matches(
            "arn:aws:events:*:*:event-bus/locked",
            "arn:aws:events:us-east-1:000000000000:event-bus/locked2",
            false
        ));
    }

    #[test]
    fn long_patterns_are_not_exponential() {
        let pattern = "*a".repeat(200);
        let text = "a".repeat(199);
        assert!(!matches(&pattern, &text, false));
    }
}
