// Typed, fixed-argument wrappers around libcurl's C-variadic functions,
// which Swift cannot call directly. One wrapper per argument kind.
#ifndef FLEXPOST_CCURL_SHIM_H
#define FLEXPOST_CCURL_SHIM_H

#include <curl/curl.h>
#include <stddef.h>

typedef size_t (*flexpost_curl_data_callback)(char *buffer, size_t size, size_t nitems, void *userdata);

/// CURL_READFUNC_ABORT imports with the wrong integer type; this one is size_t.
static const size_t flexpost_curl_readfunc_abort = CURL_READFUNC_ABORT;

static inline CURLcode flexpost_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode flexpost_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode flexpost_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode flexpost_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode flexpost_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode flexpost_curl_setopt_callback(CURL *handle, CURLoption option, flexpost_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode flexpost_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode flexpost_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

/// CURLOPT_MAIL_RCPT_ALLOWFAILS is spelled with three Ls before libcurl 8.2.
#ifndef CURLOPT_MAIL_RCPT_ALLOWFAILS
#define CURLOPT_MAIL_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLLOWFAILS
#endif

#endif
