//go:build widget && !lambda

package main

// The tag widget chooses the custom-widget function among the Lambda
// builds; without the tag lambda it names no build. The name below is
// undefined on purpose, so that the compiler stops with it as the
// message.
var _ = widget_tag_needs_lambda_tag__build_with_tags_lambda_lambda_norpc_widget
