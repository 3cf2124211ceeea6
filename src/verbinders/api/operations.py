"""Each operation's public name (`operationId`): short, stable, unique.

Generated clients name their functions after these (`list_organisations`, `changeStrength`),
so a name never changes once published. A route missing here fails the OpenAPI document's
build (and the test that builds it): name every new route.
"""

from __future__ import annotations

__all__ = ["OPERATION_IDS"]

OPERATION_IDS: dict[tuple[str, str], str] = {
    # system
    ("GET", "/health/live"): "checkLive",
    ("GET", "/health/ready"): "checkReady",
    ("GET", "/me"): "showMe",
    ("GET", "/platform"): "showPlatform",
    ("PATCH", "/platform"): "changePlatform",
    ("PUT", "/platform/point-of-contact"): "setPointOfContact",
    # access
    ("GET", "/tokens"): "listTokens",
    ("POST", "/tokens"): "issueToken",
    ("POST", "/tokens/{token_id}/revoke"): "revokeToken",
    # organisations
    ("GET", "/organisations"): "listOrganisations",
    ("POST", "/organisations"): "registerOrganisation",
    ("GET", "/organisations/{organisation_id}"): "showOrganisation",
    ("PATCH", "/organisations/{organisation_id}"): "updateOrganisation",
    ("POST", "/organisations/{organisation_id}/dissolve"): "dissolveOrganisation",
    ("POST", "/organisations/{organisation_id}/strengths"): "addStrength",
    ("PATCH", "/organisations/{organisation_id}/strengths/{strength_id}"): "changeStrength",
    (
        "POST",
        "/organisations/{organisation_id}/strengths/{strength_id}/withdraw",
    ): "withdrawStrength",
    ("GET", "/organisations/{organisation_id}/contacts"): "listContacts",
    ("POST", "/organisations/{organisation_id}/contacts"): "addContact",
    ("PATCH", "/organisations/{organisation_id}/contacts/{person_id}"): "changeContact",
    ("DELETE", "/organisations/{organisation_id}/contacts/{person_id}"): "removeContact",
    ("POST", "/organisations/{organisation_id}/contacts/{person_id}/forget"): "forgetContact",
    ("GET", "/strengths"): "searchStrengths",
    # membership
    ("GET", "/membership"): "listRegister",
    ("GET", "/organisations/{organisation_id}/membership"): "showMembership",
    ("POST", "/organisations/{organisation_id}/membership/apply"): "applyForMembership",
    ("POST", "/organisations/{organisation_id}/membership/withdraw"): "withdrawApplication",
    ("POST", "/organisations/{organisation_id}/membership/admit"): "admitMember",
    ("POST", "/organisations/{organisation_id}/membership/reject"): "rejectApplication",
    ("POST", "/organisations/{organisation_id}/membership/suspend"): "suspendMember",
    ("POST", "/organisations/{organisation_id}/membership/reinstate"): "reinstateMember",
    ("POST", "/organisations/{organisation_id}/membership/leave"): "leavePlatform",
    ("GET", "/reports/membership-growth"): "reportMembershipGrowth",
    # meetings
    ("GET", "/meetings"): "listMeetings",
    ("POST", "/meetings"): "scheduleMeeting",
    ("GET", "/meetings/{meeting_id}"): "showMeeting",
    ("POST", "/meetings/{meeting_id}/reschedule"): "rescheduleMeeting",
    ("POST", "/meetings/{meeting_id}/agenda"): "changeAgenda",
    ("POST", "/meetings/{meeting_id}/cancel"): "cancelMeeting",
    ("POST", "/meetings/{meeting_id}/attendance"): "recordAttendance",
    ("POST", "/meetings/{meeting_id}/decisions"): "recordDecision",
    ("POST", "/meetings/{meeting_id}/minutes"): "publishMinutes",
    ("GET", "/reports/attendance"): "reportAttendance",
    # calls
    ("GET", "/calls"): "listCalls",
    ("POST", "/calls"): "issueCall",
    ("GET", "/calls/{call_id}"): "showCall",
    ("PATCH", "/calls/{call_id}"): "updateCall",
    ("POST", "/calls/{call_id}/close"): "closeCall",
    ("POST", "/calls/{call_id}/addressees"): "addAddressee",
    ("POST", "/calls/{call_id}/acknowledge"): "acknowledgeCall",
    ("GET", "/calls/{call_id}/responses"): "listResponses",
    ("GET", "/calls/{call_id}/responses/{organisation_id}"): "showResponse",
    ("PUT", "/calls/{call_id}/responses/{organisation_id}"): "respondToCall",
    ("POST", "/calls/{call_id}/needs/{need_id}/claim"): "claimNeed",
    ("POST", "/calls/{call_id}/needs/{need_id}/release"): "releaseNeed",
    ("GET", "/calls/{call_id}/picture"): "showCallPicture",
    ("GET", "/calls/{call_id}/picture/stream"): "streamCallPicture",
    ("POST", "/calls/{call_id}/board-tickets"): "issueBoardTicket",
    ("GET", "/board/calls/{call_id}"): "showBoardPage",
    ("GET", "/board/board.js"): "showBoardScript",
    ("GET", "/reports/calls/{call_id}"): "reportCall",
    ("GET", "/reports/calls"): "reportCallYear",
    # events and activity
    ("GET", "/events"): "listEvents",
    ("GET", "/events/stream"): "streamEvents",
    ("GET", "/reports/activity"): "reportActivity",
}
