package awssim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const orgsTargetPrefix = "AWSOrganizationsV20161128."

// joined is when every simulated account joined the organization.
var joined = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

func writeJSON(w http.ResponseWriter, status int, v any) {
	out, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"__type": code, "Message": msg})
}

// jsonFault answers an injected fault in the JSON 1.1 shape.
func jsonFault(w http.ResponseWriter, f *Fault) {
	switch f.Error {
	case FaultAccessDenied:
		writeJSONError(w, http.StatusBadRequest, "AccessDeniedException", "awssim: injected: you don't have permissions to access this resource")
	case FaultServiceUnavailable:
		writeJSONError(w, http.StatusServiceUnavailable, "ServiceException", "awssim: injected: the service is unavailable")
	case FaultThrottle:
		writeJSONError(w, http.StatusBadRequest, "TooManyRequestsException", "AWS Organizations can't complete your request because another request is already in progress. Try again later.")
	default:
		writeJSONError(w, http.StatusInternalServerError, "ServiceException", "awssim: injected "+f.Error)
	}
}

type orgsRequest struct {
	MaxResults *int   `json:"MaxResults"`
	NextToken  string `json:"NextToken"`
	ParentID   string `json:"ParentId"`
}

func (s *Server) serveOrganizations(w http.ResponseWriter, r *http.Request, c caller, authCode, authMsg string) {
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), orgsTargetPrefix)
	switch op {
	case "DescribeOrganization", "ListAccounts", "ListRoots", "ListOrganizationalUnitsForParent", "ListAccountsForParent":
	default:
		writeJSONError(w, http.StatusBadRequest, "UnknownOperationException", "awssim: operation "+r.Header.Get("X-Amz-Target")+" is not simulated")
		return
	}
	if authCode != "" {
		s.count(op, "")
		writeJSONError(w, http.StatusBadRequest, "UnrecognizedClientException", authMsg)
		return
	}
	f, alive := s.begin(w, r, op, c.account, "")
	if !alive {
		return
	}
	if f != nil && f.Error != FaultRepeatedToken {
		jsonFault(w, f)
		return
	}
	if !c.management {
		writeJSONError(w, http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
		return
	}
	var in orgsRequest
	body, err := io.ReadAll(r.Body)
	if err == nil && len(body) > 0 {
		err = json.Unmarshal(body, &in)
	}
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "SerializationException", "awssim: "+err.Error())
		return
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 20) {
		writeJSONError(w, http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 20", *in.MaxResults))
		return
	}
	if op != "DescribeOrganization" && op != "ListRoots" && op != "ListAccounts" && !s.ouNames[in.ParentID] {
		writeJSONError(w, http.StatusBadRequest, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified: "+in.ParentID)
		return
	}
	switch op {
	case "DescribeOrganization":
		m := s.byID[s.mgmtAccount]
		writeJSON(w, http.StatusOK, map[string]any{"Organization": map[string]any{
			"Id": s.org.ID, "Arn": fmt.Sprintf("arn:%s:organizations::%s:organization/%s", s.partition, s.mgmtAccount, s.org.ID),
			"FeatureSet": "ALL", "MasterAccountId": s.mgmtAccount, "MasterAccountEmail": m.Email,
			"MasterAccountArn": fmt.Sprintf("arn:%s:organizations::%s:account/%s/%s", s.partition, s.mgmtAccount, s.org.ID, s.mgmtAccount),
		}})
	case "ListRoots":
		s.page(w, f, in, "Roots", []any{map[string]any{
			"Id": s.org.Root, "Name": "Root", "PolicyTypes": []any{},
			"Arn": fmt.Sprintf("arn:%s:organizations::%s:root/%s/%s", s.partition, s.mgmtAccount, s.org.ID, s.org.Root),
		}})
	case "ListOrganizationalUnitsForParent":
		var items []any
		for _, ou := range s.ouChildren[in.ParentID] {
			items = append(items, map[string]any{"Id": ou.ID, "Name": ou.Name,
				"Arn": fmt.Sprintf("arn:%s:organizations::%s:ou/%s/%s", s.partition, s.mgmtAccount, s.org.ID, ou.ID)})
		}
		s.page(w, f, in, "OrganizationalUnits", items)
	case "ListAccounts", "ListAccountsForParent":
		var items []any
		for _, a := range s.accounts {
			if op == "ListAccounts" || a.Parent == in.ParentID {
				items = append(items, s.accountJSON(a))
			}
		}
		s.page(w, f, in, "Accounts", items)
	}
}

func (s *Server) accountJSON(a *account) map[string]any {
	status := a.State
	switch a.State {
	case "CLOSED":
		status = "SUSPENDED"
	case "PENDING_ACTIVATION":
		status = "ACTIVE"
	}
	return map[string]any{
		"Id": a.ID, "Name": cmp.Or(a.Name, a.ID), "Email": a.Email, "State": a.State, "Status": status,
		"Arn":          fmt.Sprintf("arn:%s:organizations::%s:account/%s/%s", s.partition, s.mgmtAccount, s.org.ID, a.ID),
		"JoinedMethod": "CREATED", "JoinedTimestamp": float64(joined.Unix()),
	}
}

// page answers one page of items. Tokens are "o<offset>" for a real page
// and "e<offset>" for the real page that follows an empty one. A
// RepeatedToken fault f makes every page name the first page's token.
func (s *Server) page(w http.ResponseWriter, f *Fault, in orgsRequest, field string, items []any) {
	size := 20
	if in.MaxResults != nil {
		size = *in.MaxResults
	}
	offset, afterEmpty := 0, false
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken[1:])
		if err != nil || (in.NextToken[0] != 'o' && in.NextToken[0] != 'e') || n < 0 || n > len(items) {
			writeJSONError(w, http.StatusBadRequest, "InvalidInputException", "The provided NextToken is not valid: "+in.NextToken)
			return
		}
		offset, afterEmpty = n, in.NextToken[0] == 'e'
	}
	out := map[string]any{field: []any{}}
	if s.org.EmptyPages && field != "Roots" && !afterEmpty {
		out["NextToken"] = fmt.Sprintf("e%d", offset)
		writeJSON(w, http.StatusOK, out)
		return
	}
	end := min(offset+size, len(items))
	if offset < end {
		out[field] = items[offset:end]
	}
	if end < len(items) {
		out["NextToken"] = fmt.Sprintf("o%d", end)
	}
	if f != nil && f.Error == FaultRepeatedToken {
		out["NextToken"] = "o0"
	}
	writeJSON(w, http.StatusOK, out)
}
