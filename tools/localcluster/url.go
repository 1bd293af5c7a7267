package main

import (
	"fmt"
	"net/url"
)

func parseURL(s string) ([]url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("etcd: bad url %q: %w", s, err)
	}
	return []url.URL{*u}, nil
}
