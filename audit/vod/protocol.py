"""Facts of the VOD operations we call that both sides of the wire (client and emulator) rely on."""

from __future__ import annotations

ACTION = "GetJobDetail"
# The listing operations job discovery calls (same product version, same signing and gateway):
# https://www.alibabacloud.com/help/en/vod/developer-reference/api-vod-2017-03-21-searchmedia
# https://www.alibabacloud.com/help/en/vod/developer-reference/api-vod-2017-03-21-listjobinfo
SEARCH_MEDIA = "SearchMedia"
LIST_JOB_INFO = "ListJobInfo"
# What a successful transcode produced (issue #40): the media's streams, and its source file.
# https://www.alibabacloud.com/help/en/vod/developer-reference/api-vod-2017-03-21-getplayinfo
# https://www.alibabacloud.com/help/en/vod/developer-reference/api-vod-2017-03-21-getmezzanineinfo
GET_PLAY_INFO = "GetPlayInfo"
GET_MEZZANINE_INFO = "GetMezzanineInfo"
OPERATIONS = (ACTION, SEARCH_MEDIA, LIST_JOB_INFO, GET_PLAY_INFO, GET_MEZZANINE_INFO)
VERSION = "2017-03-21"

# "You can call this operation up to 15 times per second per account." (GetJobDetail reference, QPS limit)
DOCUMENTED_QPS = 15.0
# Each operation has its own per-account limit ("API QPS limits",
# https://help.aliyun.com/en/vod/developer-reference/qps-limits-on-api-operations, and each reference's
# "QPS limit" section): SearchMedia 50/s, ListJobInfo 15/s.
# GetPlayInfo: "up to 360 times per second per account" (its reference, "QPS limit"); GetMezzanineInfo:
# 100 per second (its reference in the API portal, "Quotas Info": "The current API request rate is
# 100/1(s)", https://api.alibabacloud.com/document/vod/2017-03-21/GetMezzanineInfo).
OPERATION_QPS = {
    ACTION: DOCUMENTED_QPS,
    SEARCH_MEDIA: 50.0,
    LIST_JOB_INFO: 15.0,
    GET_PLAY_INFO: 360.0,
    GET_MEZZANINE_INFO: 100.0,
}
# GetPlayInfo's ResultType: Multiple returns every stream of each definition and format, not only the
# latest (its reference): an audit asks for every job's stream, older ones included.
PLAY_RESULT_TYPE = "Multiple"
# SearchMedia: paging (PageNo, PageSize) reaches the first 5,000 results; the full traversal with
# ScrollToken (video and audio only) reaches 2 million; a page holds at most 100 (SearchMedia reference,
# "Operation description" and PageSize).
PAGED_RESULTS = 5_000
SCROLLED_RESULTS = 2_000_000
PAGE_SIZE = 100
