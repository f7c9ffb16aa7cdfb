({
    onScriptsLoaded: function (cmp, event, helper) {
        helper.start(cmp);
    },

    onDestroy: function (cmp, event, helper) {
        helper.stop(cmp);
    },

    // Omni-Channel's own events tell the relay whether Omni-Channel runs in this tab (the relay never calls the
    // toolkit from a tab where it does not) and, as a fallback, the current status.
    onOmniLogin: function (cmp, event, helper) {
        helper.trackOmni(cmp, 'login', event.getParam('statusId') || null);
    },

    onOmniStatusChanged: function (cmp, event, helper) {
        helper.trackOmni(cmp, 'status', event.getParam('statusId') || null);
    },

    onOmniLogout: function (cmp, event, helper) {
        helper.trackOmni(cmp, 'logout', event.getParam('reason') || null);
    }
})
