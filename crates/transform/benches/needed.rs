//! The cost of making one target's input from a matched event: a full
//! parse of the envelope into a `Value` (what the bus did before) against
//! the partial parse of [`Needed::read`] (what it does now), on a
//! citylots-shaped event (~880 bytes, mostly coordinates) with `InputPath`
//! `$.detail.properties.STREET`.
//!
//! `cargo bench -p ferrule-transform --bench needed`

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use ferrule_transform::{InputSpec, Needed, RenderContext};

fn event() -> String {
    let coordinates: Vec<String> = (0..40)
        .map(|i| format!("[-122.4{i:02}1234567890, 37.80{i:02}987654321, 0]"))
        .collect();
    format!(
        r#"{{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"Feature","source":"citylots","account":"123456789012","time":"2024-05-01T12:00:00Z","region":"us-east-1","resources":[],"detail":{{"type":"Feature","properties":{{"MAPBLKLOT":"0001001","BLKLOT":"0001001","BLOCK_NUM":"0001","LOT_NUM":"001","FROM_ST":"0","TO_ST":"0","STREET":"UNKNOWN","ST_TYPE":null,"ODD_EVEN":"E"}},"geometry":{{"type":"Polygon","coordinates":[[{}]]}}}}}}"#,
        coordinates.join(",")
    )
}

fn bench(c: &mut Criterion) {
    let text = event();
    let spec = InputSpec::new("t", None, Some("$.detail.properties.STREET"), None).unwrap();
    let needed = Needed::of(&spec);
    let context = RenderContext {
        rule_arn: "arn:aws:events:us-east-1:123456789012:rule/r",
        rule_name: "r",
        ingestion_time: "2024-05-01T12:00:00.000Z",
    };
    let mut group = c.benchmark_group("input_path");
    group.bench_function("full_parse", |b| {
        b.iter(|| {
            let value: serde_json::Value = serde_json::from_str(black_box(&text)).unwrap();
            spec.render(&value, &context).unwrap()
        })
    });
    group.bench_function("needed_read", |b| {
        b.iter(|| {
            let value = needed.read(black_box(&text)).unwrap();
            spec.render(&value, &context).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
