//! What Linux asked of the RMM itself: the RMM logs each REC's SMCs by kind when the
//! VMM destroys the REC after power-off (`rmm/src/rsi/counts.rs`), one line per REC;
//! this gathers those lines into a table, a column per vCPU (RECs are destroyed in
//! vCPU order).

/// The RMM's line, after its log prefix: `REC <pa> destroyed; SMCs from its realm: `
/// then `NAME count` items separated by `, `.
const MARK: &str = " destroyed; SMCs from its realm: ";

/// Rows (kind, count per vCPU) in the order the kinds first appear.
pub fn gather(lines: &[String]) -> Vec<(String, Vec<u64>)> {
    let recs: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split_once(MARK).map(|(_, items)| items))
        .collect();
    let mut rows: Vec<(String, Vec<u64>)> = Vec::new();
    for (vcpu, items) in recs.iter().enumerate() {
        for item in items.trim().split(", ") {
            let Some((name, n)) = item.rsplit_once(' ') else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            let i = match rows.iter().position(|(k, _)| k == name) {
                Some(i) => i,
                None => {
                    rows.push((name.to_string(), vec![0; recs.len()]));
                    rows.len() - 1
                }
            };
            rows[i].1[vcpu] = n;
        }
    }
    rows
}

/// The table as Markdown lines.
pub fn render(rows: &[(String, Vec<u64>)]) -> Vec<String> {
    let vcpus = rows.first().map_or(0, |(_, c)| c.len());
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0).max(8);
    let mut out = Vec::new();
    let mut head = format!("| {:width$} |", "SMC");
    let mut rule = format!("|{}|", "-".repeat(width + 2));
    for v in 0..vcpus {
        head += &format!(" vCPU {v} |");
        rule += "-------:|";
    }
    out.push(head);
    out.push(rule);
    for (k, counts) in rows {
        let mut l = format!("| {k:width$} |");
        for c in counts {
            l += &format!(" {c:>6} |");
        }
        out.push(l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_the_rmm_lines_by_vcpu() {
        let lines: Vec<String> = [
            "[INFO ] REC 0x1000 destroyed; SMCs from its realm: RSI_VERSION 1, PSCI 12",
            "linux noise",
            "[INFO ] REC 0x2000 destroyed; SMCs from its realm: PSCI 3, RSI_IPA_STATE_GET 7",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let rows = gather(&lines);
        assert_eq!(
            rows,
            [
                ("RSI_VERSION".to_string(), vec![1, 0]),
                ("PSCI".to_string(), vec![12, 3]),
                ("RSI_IPA_STATE_GET".to_string(), vec![0, 7]),
            ]
        );
        assert_eq!(
            render(&rows),
            [
                "| SMC               | vCPU 0 | vCPU 1 |",
                "|-------------------|-------:|-------:|",
                "| RSI_VERSION       |      1 |      0 |",
                "| PSCI              |     12 |      3 |",
                "| RSI_IPA_STATE_GET |      0 |      7 |",
            ]
        );
    }
}
