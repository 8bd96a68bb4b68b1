// The proctor's Jitsi window: the meeting server's IFrame API (loaded before this file) opens the room with
// the moderator token sebframe put into #proctoring-config.
(function () {
  "use strict";
  var element = document.getElementById("proctoring-config");
  var target = document.getElementById("meeting");
  if (!element || !target) { return; }
  var config = JSON.parse(element.textContent);
  if (typeof window.JitsiMeetExternalAPI !== "function") {
    target.textContent = "The meeting server's script did not load: check that " + config.domain + " is reachable.";
    return;
  }
  var api = new window.JitsiMeetExternalAPI(config.domain, {
    roomName: config.roomName,
    jwt: config.jwt,
    parentNode: target,
    width: "100%",
    height: "100%",
    userInfo: {displayName: config.userName},
    configOverwrite: config.configOverwrite
  });
  api.executeCommand("subject", config.subject);
})();
