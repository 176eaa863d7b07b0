package console

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/s3inv/scanner/rules"
)

// Catalogue prints the rule catalogue as a table.
func Catalogue(w io.Writer, all []rules.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSEVERITY\tLEVEL\tTITLE")
	for _, r := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.SeverityText(), r.Level, r.Title)
	}
	return tw.Flush()
}
