// The proctor's Zoom window: the Meeting SDK for the web (client view, loaded from Zoom before this file)
// starts the room's meeting as its host with the signature (role 1) and the host's ZAK sebframe put into
// #proctoring-config.
(function () {
  "use strict";
  var element = document.getElementById("proctoring-config");
  var target = document.getElementById("meeting");
  if (!element || !target) { return; }
  var config = JSON.parse(element.textContent);
  var sdk = window.ZoomMtg;
  if (!sdk || typeof sdk.init !== "function") {
    target.textContent = "Zoom's Meeting SDK did not load: check that " + config.sdkUrl + " is reachable.";
    return;
  }
  function failed(what) {
    return function (error) {
      target.textContent = what + ": " + ((error && (error.reason || error.errorMessage)) || "unknown error");
    };
  }
  sdk.setZoomJSLib(config.sdkUrl + "/lib", "/av");
  sdk.preLoadWasm();
  sdk.prepareWebSDK();
  sdk.init({
    leaveUrl: window.location.href,
    patchJsMedia: true,
    success: function () {
      sdk.join({
        signature: config.signature,
        meetingNumber: config.meetingNumber,
        passWord: config.passWord,
        userName: config.userName,
        zak: config.zak,
        error: failed("Joining the meeting failed")
      });
    },
    error: failed("Zoom's Meeting SDK did not start")
  });
})();
