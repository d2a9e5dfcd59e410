// prom-rules-check validates Prometheus rule files with Prometheus's own
// rule-file parser and PromQL parser: the checks `promtool check rules`
// runs (YAML shape, unknown fields, PromQL, label and annotation templates).
// promtool itself cannot be built from the Go module proxy reachable here
// (one of its service-discovery dependencies is refused), and this needs only
// the two packages. scripts/check-deploy.sh builds it into the cache.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

func main() {
	failed := false
	for _, path := range os.Args[1:] {
		groups, errs := rulefmt.ParseFile(path, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.Default())
		if len(errs) > 0 {
			failed = true
			for _, err := range errs {
				fmt.Fprintln(os.Stderr, err)
			}
			continue
		}
		rules := 0
		for _, g := range groups.Groups {
			rules += len(g.Rules)
		}
		fmt.Printf("%s: %d rules in %d groups, valid\n", path, rules, len(groups.Groups))
	}
	if failed {
		os.Exit(1)
	}
}
