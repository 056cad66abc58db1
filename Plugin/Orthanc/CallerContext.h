// Who called: Orthanc gives plugin REST callbacks neither the remote IP nor
// the user, but gives both (IP, headers) to incoming-request filters, which
// run on the same HTTP thread right before the handler. The filter keeps them
// in a thread-local for the audit trail. Never holds a password.
#pragma once

#include <string>

namespace Deid
{
  namespace CallerContext
  {
    // Registers the (always allowing) filter. From OrthancPluginInitialize().
    // The user of HTTP Basic authentication is only recorded when Orthanc
    // checks it ("AuthenticationEnabled": true): otherwise it is a mere claim.
    void Register(bool recordUsername);

    // Compact JSON of the current HTTP request, e.g.
    // {"RemoteIP":"127.0.0.1","Username":"alice"} ("Username" from HTTP Basic
    // authentication, "ForwardedFor" from X-Forwarded-For when present);
    // "{}" outside an HTTP request (jobs started by Orthanc itself).
    std::string GetCurrent();

    // "POST /tools/deidentify": the method and URI of the current HTTP
    // request (escaped and cut, SafeText.h); "" outside an HTTP request.
    std::string GetCurrentRoute();
  }
}
